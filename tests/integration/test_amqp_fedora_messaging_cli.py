"""fedora-messaging's own command line against a real hub on a real RabbitMQ: what its
``publish`` CLI sends, a hub consumer receives intact; what a hub consumer publishes, its
``record`` CLI receives and validates.

Runs in the pytest process; the CLIs and the hub are subprocesses, the node is ``rabbitmq``.
Readiness: the hub's /ready, and the record CLI's queue declared before anything is published
to it (so nothing depends on timing).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fedora_messaging import message as fm

from tests.integration.amqp_hubs import amqp_hub, echo_into_queue, started
from tests.integration.harness import HubProcess, read_records, recorder, wait_until
from tests.integration.servers.rabbitmq import RabbitMQ

pytestmark = pytest.mark.integration


def fedora_messaging(tmp_path: Path, rabbitmq: RabbitMQ, *args: str, conf: str = "") -> str:
    """Run the ``fedora-messaging`` CLI with a config file naming the node; its output."""
    path = tmp_path / "fedora-messaging.toml"
    path.write_text(f'amqp_url = "{rabbitmq.url}"\n{conf}')
    cli = Path(sys.executable).with_name("fedora-messaging")
    done = subprocess.run(
        [str(cli), "--conf", str(path), *args],
        env=dict(os.environ, FEDORA_MESSAGING_CONF=str(path)),
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_publish_cli_sends_what_a_hub_consumer_receives_intact(
    tmp_path: Path, rabbitmq: RabbitMQ, hubs: list[HubProcess], names: tuple[str, str]
) -> None:
    """Messages in a JSON-lines file, sent by `fedora-messaging publish`: the hub's consumer
    records each one's topic, body, id, every header, and sent-at as its timestamp."""
    prefix, root = names
    out = tmp_path / "rec.jsonl"
    started(amqp_hub(tmp_path, rabbitmq, prefix, {"rec": recorder(out, [f"{root}.*"])}), hubs)
    sent = [
        fm.Message(topic=f"{root}.build.{n}", body={"n": n, "who": "ralph ✓"},
                   headers={"x-site": "iad2"}, severity=fm.WARNING)
        for n in range(3)
    ]  # fmt: skip
    messages = tmp_path / "messages.jsonl"
    messages.write_text(fm.dumps(sent))
    fedora_messaging(tmp_path, rabbitmq, "publish", str(messages))
    records = wait_until(lambda: (r := read_records(out)) and len(r) >= 3 and r, 30, "3 records")
    got = {r["msg_id"]: r for r in records}
    assert set(got) == {m.id for m in sent}
    for message in sent:
        record = got[message.id]
        assert (record["topic"], record["body"]) == (message.topic, message.body)
        assert record["headers"] == message._headers
        sent_at = dt.datetime.fromisoformat(message._headers["sent-at"]).timestamp()
        assert record["timestamp"] == sent_at


def test_what_a_hub_consumer_publishes_the_record_cli_receives_and_validates(
    tmp_path: Path, rabbitmq: RabbitMQ, hubs: list[HubProcess], names: tuple[str, str]
) -> None:
    """A consumer's hub.publish() (publish_to: amqp) lands in a queue `fedora-messaging record`
    consumes: the CLI validates it on the way to its file, and it loads back with its topic,
    body and the hub's headers."""
    prefix, root = names
    queue = f"{prefix}.recorded"
    hub = echo_into_queue(tmp_path, rabbitmq, hubs, names, queue)
    conf = (f'[queues."{queue}"]\ndurable = true\nauto_delete = false\nexclusive = false\n'
            f'arguments = {{}}\n\n[[bindings]]\nqueue = "{queue}"\nexchange = "amq.topic"\n'
            f'routing_keys = ["{root}.ping.echo"]\n')  # fmt: skip
    recorded = tmp_path / "recorded.jsonl"
    fedora_messaging(tmp_path, rabbitmq, "record", "--limit", "1", str(recorded), conf=conf)
    (message,) = fm.loads(recorded.read_text())
    message.validate()
    assert (message.topic, message.body) == (f"{root}.ping.echo", {"echo": {"n": 0}})
    assert message._headers["fedora_messaging_schema"] == "base.message"
    assert hub.stop() == 0
