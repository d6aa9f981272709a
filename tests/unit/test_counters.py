"""hub.counters: a consumer's own event counters, added from many threads, read without reset."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest

from hub.consumer import Consumer
from hub.counters import MAX_NAMES, Counters
from hub.message import Message


@pytest.fixture
def busy_switching() -> Iterator[None]:
    """Switch threads every 10 us, so that concurrent add() calls really interleave."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(before)


def test_add_counts_by_name_and_reading_never_resets() -> None:
    """add() defaults to 1, takes a value, and totals() copies: read twice, the same totals."""
    counters = Counters()
    counters.add("skipped")
    counters.add("skipped", 2)
    counters.add("stored_2", 0)
    assert counters.totals() == {"skipped": 3, "stored_2": 0}
    counters.totals()["skipped"] = 99  # a copy
    assert counters.totals() == {"skipped": 3, "stored_2": 0}


def test_concurrent_adds_from_several_threads_give_an_exact_total(busy_switching: None) -> None:
    """8 threads adding 5,000 times each to two names at once: both totals exact."""
    counters = Counters()
    start = threading.Barrier(8)

    def work() -> None:
        start.wait()
        for _ in range(5000):
            counters.add("skipped")
            counters.add("bytes", 3)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert counters.totals() == {"skipped": 40_000, "bytes": 120_000}


@pytest.mark.parametrize("name", ["Skipped", "already-stored", "a.b", "", "skipped\n", "é", 3])
def test_a_bad_name_is_a_value_error_naming_it(name: object) -> None:
    """Only lowercase [a-z0-9_]+ names are counted; the error names the bad one."""
    counters = Counters()
    with pytest.raises(ValueError, match=r"counter name .* is not made of lowercase") as raised:
        counters.add(name)  # type: ignore[arg-type]
    assert repr(name) in str(raised.value)
    assert counters.totals() == {}


def test_a_negative_or_non_int_value_is_refused() -> None:
    """Counters only go up: a negative value is a ValueError, a float or bool a TypeError."""
    counters = Counters()
    with pytest.raises(ValueError, match="only go up"):
        counters.add("skipped", -1)
    for value in (1.5, True):
        with pytest.raises(TypeError, match="must be an int"):
            counters.add("skipped", value)  # type: ignore[arg-type]
    assert counters.totals() == {}


def test_the_number_of_names_is_bounded() -> None:
    """A consumer that counts per value instead of per kind of event is stopped at MAX_NAMES."""
    counters = Counters()
    for n in range(MAX_NAMES):
        counters.add(f"event_{n}")
    with pytest.raises(ValueError, match=f"already has {MAX_NAMES} counters"):
        counters.add("one_more")
    counters.add("event_0")  # a known name still counts
    assert counters.totals()["event_0"] == 2


class _Skipper(Consumer):
    def consume(self, message: Message) -> None:
        self.counters.add("skipped")


def test_every_consumer_instance_has_counters_before_the_hub_attaches_its_own() -> None:
    """A consumer built outside a hub (a plugin's own unit test) can count at once."""
    consumer = _Skipper("archive", {}, hub=None)  # type: ignore[arg-type]
    consumer.consume(None)  # type: ignore[arg-type]
    assert consumer.counters.totals() == {"skipped": 1}
