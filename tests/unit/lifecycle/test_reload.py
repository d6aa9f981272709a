"""hub.lifecycle.reload's decisions (diff, restart-only settings, rejection), its drain deadline
and an AMQP consumer's release, and hub.daemon's status line, against small fakes on a fake
reactor clock."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from twisted.internet import defer, task

from hub.config import ConsumerConfig, HubConfig, config_from_dict
from hub.errors import ConfigError
from hub.lifecycle.daemon import status_line
from hub.lifecycle.reload import Reloader
from hub.lifecycle.reload_plan import (
    diff_consumers,
    live_config,
    refuse_unreloadable,
    restart_only_changes,
)
from hub.message import Message
from hub.workers.life import ConsumerLife
from hub.workers.workqueue import Item, WorkQueue


def _item(n: int, enqueued_at: float = 0.0) -> Item:
    message = Message(topic="t", envelope={"msg": {"n": n}, "msg_id": f"id-{n}"})
    return Item(message, enqueued_at)


def test_diff_consumers() -> None:
    """Names split into added, removed, changed (any field differs) and unchanged."""
    a = ConsumerConfig(cls="recorder", config={"path": "a"})
    old = {"keep": a, "gone": a, "tuned": a}
    new = {"keep": a, "tuned": ConsumerConfig(cls="recorder", config={"path": "b"}), "new": a}
    diff = diff_consumers(old, new)
    assert diff.added == ("new",) and diff.removed == ("gone",)
    assert diff.changed == ("tuned",) and diff.unchanged == ("keep",)


def test_restart_only_changes_and_live_config() -> None:
    """Endpoint changes are reported as needing a restart; consumers and log level go live."""
    old = config_from_dict({"endpoints": ["tcp://127.0.0.1:1"], "log_level": "INFO"})
    new = config_from_dict(
        {"endpoints": ["tcp://127.0.0.1:2"], "log_level": "DEBUG", "consumers": {}}
    )
    assert restart_only_changes(old, new) == ["endpoints"]
    live = live_config(old, new)
    assert live.endpoints == old.endpoints and live.log_level == "DEBUG"


def test_producer_changes_need_a_restart() -> None:
    """A reload leaves producers as they are and lists them among the ignored settings."""
    old = config_from_dict({"endpoints": ["tcp://a:1"], "producers": {"p": {"class": "x:P"}}})
    new = config_from_dict({"endpoints": ["tcp://a:1"],
                            "producers": {"p": {"class": "x:P", "interval_s": 9}}})  # fmt: skip
    assert restart_only_changes(old, new) == ["producers"]
    assert live_config(old, new).producers == old.producers


class FakeBroker:
    """The broker side of a reload: records what it was asked, returns ``unfinished``."""

    def __init__(self, unfinished: int = 0) -> None:
        self.unfinished = unfinished
        self.calls: list[tuple[str, str]] = []

    def consume(self, consumer: str) -> defer.Deferred[None]:
        self.calls.append(("consume", consumer))
        return defer.succeed(None)

    def cancel(self, consumer: str) -> None:
        self.calls.append(("cancel", consumer))

    def release(self, consumer: str) -> int:
        self.calls.append(("release", consumer))
        return self.unfinished


def _fake_service(
    clock: task.Clock, queue: WorkQueue, config: HubConfig, source: str = "zmq"
) -> Any:
    workers = SimpleNamespace(closed=False, aborted=False, busy=[None])
    workers.close = lambda: setattr(workers, "closed", True)
    workers.abort = lambda: setattr(workers, "aborted", True)
    life = ConsumerLife(
        loaded=SimpleNamespace(name="c", config=SimpleNamespace(source=source)),  # type: ignore[arg-type]
        queue=queue,
        workers=workers,  # type: ignore[arg-type]
        clock=clock,
        flush_restarts=lambda: None,
    )
    svc = SimpleNamespace(
        reactor=clock,
        config=config,
        consumers=FakeConsumers({"c": life}),
        stopping=False,
        forgotten=[],
        dropped=[],
        broker_queues=FakeBroker(unfinished=2),
    )
    svc.forget_consumer = svc.forgotten.append
    svc.count_dropped = lambda *args: svc.dropped.append(args)
    return svc, life.stopped


class FakeConsumers:
    """The running consumers as a reload sees them; ``start`` records the window it is given."""

    def __init__(self, lives: dict[str, ConsumerLife]) -> None:
        self.lives = lives
        self.started: list[WorkQueue | None] = []

    def __iter__(self) -> Any:
        return iter(list(self.lives.values()))

    def get(self, name: str) -> ConsumerLife | None:
        return self.lives.get(name)

    def new_window(self, loaded: Any) -> WorkQueue:
        return WorkQueue(loaded.name, 10, bytes_bound=123_456)

    def start(self, loaded: Any, queue: WorkQueue | None = None) -> defer.Deferred:
        self.started.append(queue)
        return defer.succeed(loaded.name)


def test_drain_deadline_hands_backlog_to_successor() -> None:
    """A changed consumer missing the deadline hands its backlog, in order, to its successor."""
    clock = task.Clock()
    config = config_from_dict({"endpoints": ["tcp://127.0.0.1:1"], "shutdown_timeout_s": 5})
    old = WorkQueue("c", 100)
    old.put_many([_item(1), _item(2)])
    svc, _ = _fake_service(clock, old, config)
    successor = WorkQueue("c", 100)
    successor.put_many([_item(3)])
    done = defer.ensureDeferred(Reloader(svc, "x")._drain("c", successor))
    assert svc.consumers.lives["c"].workers.closed and not done.called
    clock.advance(5)
    assert svc.consumers.lives["c"].workers.aborted
    clock.advance(2)
    assert done.called and svc.forgotten == ["c"] and svc.dropped == []
    assert [i.message.body["n"] for i in successor.drain_remaining()] == [1, 2, 3]


def test_drain_in_time_cancels_deadline_and_drops_nothing() -> None:
    """A removed consumer that stops before the deadline leaves no timer and no drop."""
    clock = task.Clock()
    config = config_from_dict({"endpoints": ["tcp://127.0.0.1:1"]})
    svc, stopped = _fake_service(clock, WorkQueue("c", 10), config)
    done = defer.ensureDeferred(Reloader(svc, "x")._drain("c", None))
    stopped.callback("c")
    assert done.called and clock.getDelayedCalls() == []
    assert svc.dropped == [] and svc.forgotten == ["c"]


def test_an_amqp_consumer_drained_by_a_reload_returns_its_rest_to_the_broker() -> None:
    """A removed AMQP consumer: after its drain its unfinished deliveries are released to its
    queue (the broker keeps them), nothing is counted as dropped."""
    clock = task.Clock()
    config = config_from_dict({"endpoints": ["tcp://127.0.0.1:1"]})
    svc, stopped = _fake_service(clock, WorkQueue("c", 10), config, source="amqp")
    done = defer.ensureDeferred(Reloader(svc, "x")._drain("c", None))
    stopped.callback("c")
    assert done.called and svc.broker_queues.calls == [("release", "c")]
    assert svc.dropped == [] and svc.forgotten == ["c"]


def test_a_reload_refuses_a_source_switch_and_an_ordered_change() -> None:
    """zmq -> amqp, and ordered on an AMQP consumer, are refused naming the consumer; other
    changes to an AMQP consumer (topics, threads) are not."""
    amqp = {"url": "amqp://localhost/", "queue_prefix": "p"}
    base = {"endpoints": ["tcp://127.0.0.1:1"], "amqp": amqp, "publish_to": "amqp"}

    def config(**consumer: Any) -> HubConfig:
        return config_from_dict({**base, "consumers": {"c": {"class": "recorder", **consumer}}})

    def refused(old: HubConfig, new: HubConfig) -> str:
        try:
            refuse_unreloadable(old, new, diff_consumers(old.enabled_consumers,
                                                         new.enabled_consumers))  # fmt: skip
        except ConfigError as err:
            return str(err)
        return ""

    assert "consumer c: source zmq -> amqp" in refused(config(source="zmq"), config(source="amqp"))
    assert "ordered False -> True" in refused(config(source="amqp"),
                                              config(source="amqp", ordered=True))  # fmt: skip
    assert refused(config(source="amqp"), config(source="amqp", topics=["a.*"], threads=2)) == ""


def test_invalid_config_is_rejected() -> None:
    """A ConfigError from loading leaves the running config in place and says why."""
    config = config_from_dict({"endpoints": ["tcp://127.0.0.1:1"]})
    svc = SimpleNamespace(config=config, stopping=False, log_writable=lambda: True)

    def broken(path: Any) -> HubConfig:
        raise ConfigError("hub.yaml: consumers.x.threads: expected a whole number")

    results: list[Any] = []
    Reloader(svc, "hub.yaml", load=broken).reload().addCallback(results.append)
    assert not results[0].applied and results[0].summary.startswith("reload rejected: hub.yaml")
    assert svc.config is config


def test_a_reload_waits_while_the_log_refuses_a_batch() -> None:
    """A refused batch was routed to the running consumers: re-routing waits (rechecking each
    second) until it is written, and gives up if the hub stops meanwhile."""
    clock = task.Clock()
    log = SimpleNamespace(writable=False)
    svc = SimpleNamespace(reactor=clock, stopping=False, log_writable=lambda: log.writable)
    waited = defer.ensureDeferred(Reloader(svc, "x")._log_writable())
    clock.advance(3)
    assert not waited.called
    log.writable = True
    clock.advance(1)
    assert waited.result is True
    log.writable = False
    stopped = defer.ensureDeferred(Reloader(svc, "x")._log_writable())
    svc.stopping = True
    clock.advance(1)
    assert stopped.result is False


def test_status_line() -> None:
    """Rate, total backlog, consumers behind (oldest message > 5 s) and a paused input."""
    snapshot = {
        "hub": {"received_per_s": 12.4, "backlog": 3, "input_paused": True},
        "consumers": {
            "late": {"oldest_age_s": 60.0, "state": "running"},
            "fresh": {"oldest_age_s": 0.1, "state": "running"},
            "idle": {"oldest_age_s": 0.0, "state": "halted"},
        },
    }
    assert status_line(snapshot) == (
        "12 msg/s, backlog 3, 2 of 3 consumers behind (late, idle), input paused"
    )


def test_a_changed_consumer_gets_its_window_from_the_service_with_its_byte_bound() -> None:
    """A reload builds a changed consumer's window where start-up does
    (hub.lifecycle.consumers.Consumers.new_window), so its byte bound survives a SIGHUP; the new
    instance starts on that very window."""
    clock = task.Clock()
    config = config_from_dict({"endpoints": ["tcp://127.0.0.1:1"]})
    svc, stopped = _fake_service(clock, WorkQueue("c", 10), config)
    svc.set_routes = lambda routes: None
    started = svc.consumers.started
    fresh = {"c": SimpleNamespace(name="c", config=ConsumerConfig(cls="recorder"))}
    diff = diff_consumers({"c": ConsumerConfig(cls="log")}, {"c": ConsumerConfig(cls="recorder")})
    done = defer.ensureDeferred(Reloader(svc, "x")._apply(diff, fresh))  # type: ignore[arg-type]
    stopped.callback("c")
    assert done.result == [] and [q.bytes_bound for q in started] == [123_456]


def test_each_caller_gets_its_own_result_and_a_rejected_reload_does_not_block_the_next() -> None:
    """A second SIGHUP during a reload gets the result too (not None), and after a reload
    rejected at once a later one runs again instead of waiting on the finished one."""
    config = config_from_dict({"endpoints": ["tcp://127.0.0.1:1"]})
    svc = SimpleNamespace(config=config, stopping=False, log_writable=lambda: True)
    calls: list[Any] = []

    def broken(path: Any) -> HubConfig:
        calls.append(path)
        raise ConfigError("hub.yaml: consumers.x.threads: expected a whole number")

    reloader = Reloader(svc, "hub.yaml", load=broken)  # type: ignore[arg-type]
    first: list[Any] = []
    reloader.reload().addCallback(lambda r: first.append(r.summary))
    second: list[Any] = []
    reloader.reload().addCallback(lambda r: second.append(r.summary))
    assert first and second and first[0] == second[0]
    assert len(calls) == 2 and not reloader.running


def test_curve_allow_lists_are_live_and_the_hubs_own_key_is_not() -> None:
    """A reload applies zmq.curve.*.allow; the hub's own secret_key needs a restart."""

    def config(secret: str, allow: str) -> HubConfig:
        sub = {"secret_key": secret, "allow": [allow]}
        return config_from_dict(
            {"endpoints": ["tcp://127.0.0.1:1"], "zmq": {"curve": {"sub": sub}}}
        )

    old = config("/hub.key_secret", "/keys/a")
    new = config("/hub.key_secret", "/keys/b")
    assert restart_only_changes(old, new) == []
    live = live_config(old, new).zmq.curve.sub
    assert live is not None and live.allow == ("/keys/b",)
    assert restart_only_changes(old, config("/new.key_secret", "/keys/a")) == ["zmq"]


def test_the_routing_policy_is_live_and_turning_the_check_on_is_not() -> None:
    """A reload applies routing_policy and the CRL; validate_signatures and signing restart."""

    def config(**crypto: Any) -> HubConfig:
        section = {"validate_signatures": True, "ca_cert_location": "/ca.crt", **crypto}
        return config_from_dict({"endpoints": ["tcp://127.0.0.1:1"], "crypto": section})

    old, new = config(), config(routing_policy={"a.b": ["h"]}, crl_location="/crl.pem")
    assert restart_only_changes(old, new) == []
    assert live_config(old, new).crypto == new.crypto
    assert restart_only_changes(old, config(validate_signatures=False)) == ["crypto"]
    assert restart_only_changes(old, config(sign_messages=True, certname="c")) == ["crypto"]
