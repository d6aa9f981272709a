"""The ``consumer-hub`` command: run, check, publish, tail, status, top, import-config.

Runs on the main thread; ``run`` hands it to the Twisted reactor. Exit codes (also in README):
    0 clean stop; 1 unexpected error; 2 usage; 3 bad configuration; 4 plugin load or setup
    failure; 5 endpoint bind/connect failure; 6 forced exit on a second SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from hub.cli import console, deadletters, import_config
from hub.config import DEFAULT_PATH, HubConfig, load_config
from hub.errors import ConfigError, HubError
from hub.observe.logsetup import setup_logging

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="consumer-hub", description=__doc__.splitlines()[0])
    default_config = Path(os.environ.get("CONSUMER_HUB_CONFIG", DEFAULT_PATH))
    parser.add_argument(
        "--config", type=Path, default=default_config, help=f"config file ({DEFAULT_PATH})"
    )
    # --config is also accepted after the sub-command (`consumer-hub run --config F`, as in the
    # systemd units); SUPPRESS keeps the global value when it is not given there.
    after = argparse.ArgumentParser(add_help=False)
    after.add_argument("--config", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the hub in the foreground", parents=[after])
    run.add_argument("--demo", action="store_true", help="also run the demo publisher")
    run.add_argument("--demo-rate", type=float, default=20.0, help="demo messages a second")
    sub.add_parser(
        "check", help="validate the configuration and load every consumer", parents=[after]
    )
    pub = sub.add_parser("publish", help="send one message (like fedmsg-logger)", parents=[after])
    pub.add_argument("topic")
    pub.add_argument("body", help="the message body, as JSON")
    pub.add_argument("--endpoint", help="default: the config's first bind: endpoint, else bind "
                     "the first endpoint the hub connects to")  # fmt: skip
    pub.add_argument("--timeout", type=float, default=5.0)
    tail = sub.add_parser("tail", help="print live messages (like fedmsg-tail)", parents=[after])
    tail.add_argument("--topic", default="*", help="glob pattern (default: every topic)")
    tail.add_argument("--pretty", action="store_true", help="indent the JSON")
    tail.add_argument("--endpoint", action="append", help="default: the config's endpoints")
    console.add_parsers(sub, [after])  # status, top
    deadletters.add_parser(sub, [after])
    import_config.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging("INFO")
    try:
        if args.command in console.COMMANDS:  # status, top: the config only for its status URL
            return console.COMMANDS[args.command](args)
        if args.command in import_config.COMMANDS:  # reads another system's config, not ours
            return import_config.COMMANDS[args.command](args)
        config = load_config(args.config)
        setup_logging(config.log_level)
        command = {"run": cmd_run, "check": cmd_check, "publish": cmd_publish, "tail": cmd_tail,
                   "deadletters": deadletters.cmd_deadletters}  # fmt: skip
        return command[args.command](config, args)
    except HubError as exc:
        log.error("%s", exc)
        return exc.exit_code
    except KeyboardInterrupt:
        return 0


def cmd_check(config: HubConfig, args: argparse.Namespace) -> int:
    """Print the resolved configuration and each consumer with its topics."""
    from hub.plugins.loader import load_consumer
    from hub.routing.topics import subscriptions

    print(f"configuration: {config.source}")
    print(f"endpoints: {', '.join(config.endpoints)}")
    print(f"publish_endpoint: {config.publish_endpoint or '(none)'}")
    print(f"status: http://{config.status.host}:{config.status.port}"
          + ("" if config.status.enabled else " (disabled)"))  # fmt: skip
    patterns: list[str] = []
    for name, consumer in config.consumers.items():
        if not consumer.enabled:
            print(f"consumer {name}: disabled ({consumer.cls})")
            continue
        loaded = load_consumer(name, consumer, _NoPublish(), config.fedmsg)
        patterns.extend(loaded.topics)
        print(f"consumer {name}: {loaded.kind} consumer, found as {loaded.found}; "
              f"source={consumer.source} threads={consumer.threads} "
              f"queue_size={consumer.queue_size}")  # fmt: skip
        for topic in loaded.topics:
            print(f"    topic {topic}")
    print("upstream subscriptions: " + ", ".join(repr(p) for p in subscriptions(patterns)))
    _check_producers(config)
    print("configuration OK")
    return 0


def _check_producers(config: HubConfig) -> None:
    """Load every enabled producer and print it (kind, how found, schedule)."""
    from hub.plugins.producers import load_producer

    for name, producer in config.producers.items():
        if not producer.enabled:
            print(f"producer {name}: disabled ({producer.cls})")
            continue
        loaded = load_producer(name, producer, _NoPublish(), config.fedmsg)
        print(f"producer {name}: {loaded.kind} producer, found as {loaded.found}; "
              f"every {loaded.interval:g} s")  # fmt: skip


class _NoPublish:
    outputs: frozenset[str] = frozenset()
    state_dir = ""  # check never runs setup(), where a consumer would use it

    def publish(self, topic: str, body: Any) -> None:
        raise HubError("publish() is not available during check")

    def forward(self, message: Any, to: str) -> None:
        raise HubError("forward() is not available during check")


def cmd_publish(config: HubConfig, args: argparse.Namespace) -> int:
    from hub.cli.clients import parse_body, publish_one

    endpoint = args.endpoint or _publish_target(config)
    envelope = publish_one(endpoint, args.topic, parse_body(args.body), args.timeout)
    print(f"sent {envelope['msg_id']} on {args.topic} via {endpoint}")
    return 0


def _publish_target(config: HubConfig) -> str:
    bound = [e.removeprefix("bind:") for e in config.endpoints if e.startswith("bind:")]
    if bound:
        return bound[0].replace("*", "127.0.0.1")
    return "bind:" + config.endpoints[0]


def cmd_tail(config: HubConfig, args: argparse.Namespace) -> int:
    from hub.cli.clients import tail

    endpoints = args.endpoint or [
        e.removeprefix("bind:").replace("*", "127.0.0.1") for e in config.endpoints
    ]
    if config.publish_endpoint and not args.endpoint:
        endpoints.append(config.publish_endpoint.removeprefix("bind:").replace("*", "127.0.0.1"))
    tail(endpoints, args.topic, args.pretty)
    return 0


def cmd_run(config: HubConfig, args: argparse.Namespace) -> int:
    """Run the hub on the reactor until SIGTERM/SIGINT; return the exit code."""
    from twisted.internet import reactor

    from hub.lifecycle.runner import Runner
    from hub.lifecycle.service import HubService

    service = HubService(config, reactor)
    demo = _start_demo(config, args) if args.demo else None
    try:
        return Runner(service, reactor, args.config).run()
    finally:
        if demo is not None:
            demo.stop()


def _start_demo(config: HubConfig, args: argparse.Namespace) -> Any:
    from hub.cli.demo import DemoPublisher

    connect = [e for e in config.endpoints if not e.startswith("bind:")]
    if not connect:
        raise ConfigError(f"{config.source}: endpoints: --demo needs an endpoint to connect to")
    demo = DemoPublisher(connect[0], args.demo_rate)
    demo.start()
    return demo


if __name__ == "__main__":
    sys.exit(main())
