"""A real hub subprocess on a real RabbitMQ: consume and ack after finishing, SIGTERM and kill -9
with a backlog, two hubs sharing one queue, hub.publish() read by fedora-messaging itself.

Runs in the pytest process; the private node is ``rabbitmq`` (tests/integration/servers). Each
test uses its own queue prefix and topics, since queues outlive a test on the shared node.
Readiness is the hub's /ready (200 once its queues are declared and consumed), never a sleep.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.amqp_hubs import (
    amqp_hub,
    deadletters,
    echo_into_queue,
    publish,
    queue,
    recorded_ids,
    started,
)  # fmt: skip
from tests.integration.harness import REPO, HubProcess, read_records, recorder, wait_until
from tests.integration.servers.rabbitmq import RabbitMQ

pytestmark = pytest.mark.integration


def finish_on_a_new_hub(tmp_path: Path, rabbitmq: RabbitMQ, hubs: list[HubProcess],
                        names: tuple[str, str], out: Path, sent: list[str]) -> None:  # fmt: skip
    """A fresh hub on the same queue records every message of ``sent``, then stops with 0."""
    prefix, root = names
    again = started(amqp_hub(tmp_path, rabbitmq, prefix, {"rec": recorder(out, [f"{root}.*"])},
                             "again"), hubs)  # fmt: skip
    wait_until(lambda: set(recorded_ids(out)) >= set(sent), 30, "every message")
    assert again.stop() == 0


def test_a_hub_consumes_its_queue_and_acks_only_what_it_finished(
    tmp_path: Path, rabbitmq: RabbitMQ, hubs: list[HubProcess], names: tuple[str, str]
) -> None:
    """Every message published to the consumer's topics is recorded once; the queue ends empty
    with nothing unacknowledged; /status counts the consumer's backlog from the broker."""
    prefix, root = names
    out = tmp_path / "rec.jsonl"
    hub = started(amqp_hub(tmp_path, rabbitmq, prefix, {"rec": recorder(out, [f"{root}.*"])}),
                  hubs)  # fmt: skip
    sent = publish(rabbitmq, f"{root}.event", 300)
    wait_until(lambda: len(read_records(out)) >= 300, 30, "300 recorded")
    assert sorted(recorded_ids(out)) == sorted(sent)
    state = wait_until(lambda: (q := queue(rabbitmq, f"{prefix}.rec"))
                       and q["messages_unacknowledged"] == 0 and q, 15, "every ack")  # fmt: skip
    assert state["messages_ready"] == 0 and state["consumers"] == 1
    status = hub.status()["consumers"]["rec"]
    assert status["done"] == 300 and status["backlog"] == 0
    assert hub.stop() == 0


def test_sigterm_returns_the_backlog_to_the_queue_and_a_restart_finishes_it(
    tmp_path: Path, rabbitmq: RabbitMQ, hubs: list[HubProcess], names: tuple[str, str]
) -> None:
    """SIGTERM mid-backlog: exit 0, nothing acked that was not finished (ready = sent - done),
    and the next hub delivers the rest: every message at least once, none lost."""
    prefix, root = names
    out = tmp_path / "rec.jsonl"
    slow = {"rec": dict(recorder(out, [f"{root}.*"], delay_s=0.02), queue_size=20)}
    hub = started(amqp_hub(tmp_path, rabbitmq, prefix, slow), hubs)
    sent = publish(rabbitmq, f"{root}.event", 200)
    wait_until(lambda: len(read_records(out)) >= 20, 30, "20 recorded")
    assert hub.stop() == 0
    done = set(recorded_ids(out))
    state = queue(rabbitmq, f"{prefix}.rec")
    assert state["messages_unacknowledged"] == 0
    assert state["messages_ready"] == len(sent) - len(done), (state, len(done))
    finish_on_a_new_hub(tmp_path, rabbitmq, hubs, names, out, sent)


def test_kill_9_loses_nothing_the_broker_had(
    tmp_path: Path, rabbitmq: RabbitMQ, hubs: list[HubProcess], names: tuple[str, str]
) -> None:
    """kill -9 mid-stream: what the killed hub had not acked is redelivered to the next."""
    prefix, root = names
    out = tmp_path / "rec.jsonl"
    slow = {"rec": dict(recorder(out, [f"{root}.*"], delay_s=0.005), queue_size=50)}
    hub = started(amqp_hub(tmp_path, rabbitmq, prefix, slow), hubs)
    sent = publish(rabbitmq, f"{root}.event", 500)
    wait_until(lambda: len(read_records(out)) >= 50, 30, "50 recorded")
    hub.kill()
    finish_on_a_new_hub(tmp_path, rabbitmq, hubs, names, out, sent)


def test_two_hubs_share_one_consumers_queue(
    tmp_path: Path, rabbitmq: RabbitMQ, hubs: list[HubProcess], names: tuple[str, str]
) -> None:
    """Two hub processes with the same consumer are competing consumers of its queue: both take
    work, and every message is consumed exactly once."""
    prefix, root = names
    outs = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    for out, name in zip(outs, ("a", "b"), strict=True):
        config = {"rec": dict(recorder(out, [f"{root}.*"], delay_s=0.002), queue_size=10)}
        started(amqp_hub(tmp_path, rabbitmq, prefix, config, name), hubs)
    sent = publish(rabbitmq, f"{root}.event", 400)
    got = wait_until(lambda: (ids := [i for o in outs for i in recorded_ids(o)])
                     and len(ids) >= 400 and ids, 30, "400 consumed")  # fmt: skip
    assert sorted(got) == sorted(sent)
    assert all(recorded_ids(out) for out in outs), "both hubs took work"
    assert all(hub.stop() == 0 for hub in hubs)


def test_hub_publish_goes_to_amqp_in_fedora_messagings_format(
    tmp_path: Path, rabbitmq: RabbitMQ, hubs: list[HubProcess], names: tuple[str, str]
) -> None:
    """A consumer's hub.publish() (publish_to: amqp, the only transport) is consumed by
    fedora-messaging's own api.consume(), which validates it."""
    prefix, root = names
    target = f"{prefix}.fm"
    hub = echo_into_queue(tmp_path, rabbitmq, hubs, names, target)
    conf = tmp_path / "fedora-messaging.toml"
    conf.write_text(f'amqp_url = "{rabbitmq.url}"\n')
    env = dict(os.environ, FEDORA_MESSAGING_CONF=str(conf), PYTHONPATH=str(REPO))
    done = subprocess.run(
        [sys.executable, "-m", "tests.integration.transports.amqp.fm_peer", "consume", target],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    seen = json.loads([line for line in done.stdout.splitlines() if line.startswith("{")][-1])
    assert seen["topic"] == f"{root}.ping.echo" and seen["body"] == {"echo": {"n": 0}}
    assert seen["class"] == "Message"
    hub.signal(signal.SIGTERM)
    assert hub.wait(30) == 0


def test_an_ordered_consumer_runs_on_one_hub_at_a_time_and_fails_over_in_order(
    tmp_path: Path, rabbitmq: RabbitMQ, hubs: list[HubProcess], names: tuple[str, str]
) -> None:
    """ordered: true (single active consumer): while the first hub lives the second gets
    nothing; kill -9 of the first and the second takes over; first deliveries stay in order."""
    prefix, root = names
    outs = {"a": tmp_path / "a.jsonl", "b": tmp_path / "b.jsonl"}
    made = {
        name: amqp_hub(tmp_path, rabbitmq, prefix, {"rec": dict(
            recorder(out, [f"{root}.*"], delay_s=0.005), ordered=True)}, name)
        for name, out in outs.items()
    }  # fmt: skip
    started(made["a"], hubs)
    hubs.append(made["b"].start())  # /ready only once active: it waits behind "a"
    wait_until(lambda: queue(rabbitmq, f"{prefix}.rec").get("consumers") == 2, 30, "2 consumers")
    sent = publish(rabbitmq, f"{root}.event", 300)
    wait_until(lambda: len(read_records(outs["a"])) >= 50, 30, "50 recorded by a")
    assert read_records(outs["b"]) == [], "the inactive hub consumed nothing"
    made["a"].kill()
    wait_until(lambda: set(recorded_ids(outs["a"])) | set(recorded_ids(outs["b"])) >= set(sent),
               30, "every message")  # fmt: skip
    firsts = list(dict.fromkeys(recorded_ids(outs["a"]) + recorded_ids(outs["b"])))
    assert firsts == sent, "first deliveries in publish order"
    assert made["b"].stop() == 0


def test_a_halted_amqp_consumer_returns_what_it_held_to_its_queue(
    tmp_path: Path, rabbitmq: RabbitMQ, hubs: list[HubProcess], names: tuple[str, str]
) -> None:
    """hub.Halt: that consumer stops consuming its queue and nothing it held stays unacked: the
    halting message and every one after it are ready in the queue for another hub, and the
    connection stays up."""
    prefix, root = names
    out = tmp_path / "t.jsonl"
    trouble = {"t": {"class": "tests.plugins:Troublemaker", "topics": [f"{root}.*"],
                     "queue_size": 50,
                     "config": {"path": str(out), "halt_on": f"{root}.halt"}}}  # fmt: skip
    hub = started(amqp_hub(tmp_path, rabbitmq, prefix, trouble), hubs)
    before = publish(rabbitmq, f"{root}.ok", 10)
    wait_until(lambda: len(read_records(out)) >= 10, 30, "10 recorded")
    publish(rabbitmq, f"{root}.halt", 1)
    publish(rabbitmq, f"{root}.ok", 20)
    wait_until(lambda: hub.status()["consumers"]["t"]["state"] == "halted", 30, "halted")
    state = wait_until(
        lambda: (
            (q := queue(rabbitmq, f"{prefix}.t"))
            and q["consumers"] == 0
            and q["messages_unacknowledged"] == 0
            and q
        ),
        30,
        "no consumer, no unacked",
    )
    assert state["messages_ready"] == 21 and sorted(recorded_ids(out)) == sorted(before)
    assert "reconnecting" not in hub.log_text(), "the halt cancelled one queue, not the channel"
    assert hub.stop() == 0


def test_an_amqp_consumers_dead_letters_stay_on_the_broker_and_the_cli_lists_replays_purges(
    tmp_path: Path, rabbitmq: RabbitMQ, hubs: list[HubProcess], names: tuple[str, str]
) -> None:
    """Messages that fail every attempt land in <queue>.dead-letters with the hub's reasons;
    `deadletters list` names their topic, msg_id and error without consuming them, `show` prints
    one with its traceback and body, `replay` moves them back to the consumer's
    own queue, `purge` empties the dead-letter queue."""
    prefix, root = names
    out = tmp_path / "rec.jsonl"
    failing = {"rec": recorder(out, [f"{root}.*"], fail_topics=[f"{root}.bad"])}
    hub = amqp_hub(tmp_path, rabbitmq, prefix, failing)
    hub.config["retry"] = {"max_attempts": 2, "initial_delay_s": 0.01, "max_delay_s": 0.01}
    started(hub, hubs)
    sent = publish(rabbitmq, f"{root}.bad", 3)
    dead, own = f"{prefix}.rec.dead-letters", f"{prefix}.rec"
    wait_until(lambda: queue(rabbitmq, dead).get("messages_ready") == 3, 30, "3 dead letters")
    assert hub.stop() == 0
    listed = deadletters(hub, "list", "--consumer", "rec").splitlines()
    assert sorted(line.split("\t")[3] for line in listed) == sorted(sent)
    assert all(line.split("\t")[2] == f"{root}.bad" for line in listed)
    assert all(line.split("\t")[4] == f"2x RuntimeError('told to fail on {root}.bad')"
               for line in listed), listed  # fmt: skip
    shown = deadletters(hub, "show", "--consumer", "rec", sent[0])
    assert f"msg_id: {sent[0]}" in shown and "consumer: rec" in shown and "attempts: 2" in shown
    assert "Traceback (most recent call last)" in shown and '"n": 0' in shown
    assert queue(rabbitmq, dead)["messages_ready"] == 3, "listing consumed nothing"
    assert "3 dead letter(s) moved back" in deadletters(hub, "replay", "--consumer", "rec")
    assert (queue(rabbitmq, own)["messages_ready"], queue(rabbitmq, dead)["messages_ready"]) == (
        3,
        0,
    )
    again = started(amqp_hub(tmp_path, rabbitmq, prefix, failing, "again"), hubs)
    wait_until(lambda: queue(rabbitmq, dead).get("messages_ready") == 3, 30, "dead again")
    assert again.status()["consumers"]["rec"]["failed"] == 3, "replayed under their own topic"
    assert again.stop() == 0
    assert "3 dead letter(s) purged" in deadletters(again, "purge", "--consumer", "rec")
    assert queue(rabbitmq, dead)["messages_ready"] == 0
