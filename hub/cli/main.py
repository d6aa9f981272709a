"""The ``consumer-hub`` command line: the parser, and which sub-command needs the config.

Runs on the main thread; ``run`` hands it to the Twisted reactor. Exit codes (also in README and
in ``--help``): see `EPILOG`. ``--help`` shows `DESCRIPTION` and `EPILOG`, plain text, and lists
every sub-command argparse knows, so the list never goes stale.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from hub import __version__
from hub.cli import (
    bus,
    completion,
    console,
    deadletters,
    import_config,
    install_units,
    keygen,
    query,
)
from hub.config import DEFAULT_PATH, HubConfig, load_config
from hub.errors import ConfigError, HubError
from hub.observe.logsetup import setup_logging

log = logging.getLogger(__name__)

DESCRIPTION = """\
A message-bus consumer daemon: ZeroMQ or AMQP in, a bounded queue and dedicated threads per
consumer; and the commands to check, feed, watch and repair it."""
EPILOG = """\
Run `consumer-hub COMMAND --help` for a command's options. The configuration file is
--config PATH, else $CONSUMER_HUB_CONFIG, else /etc/consumer-hub/hub.yaml (and hub.d/*.yaml).

exit codes:
  0  clean stop            4  a plugin failed to load, or its setup() raised
  1  unexpected error      5  an endpoint could not be bound or connected
  2  usage                 6  forced exit on a second SIGTERM/SIGINT
  3  bad configuration     7  query: the archive cannot be read"""
# the commands that read no configuration file, or only when an option does not replace it
STANDALONE = {**console.COMMANDS, **import_config.COMMANDS, **bus.COMMANDS,
              **install_units.COMMANDS, **completion.COMMANDS, **query.COMMANDS,
              **keygen.COMMANDS}  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """The whole command line (also what the man page and shell completions are built from)."""
    parser = argparse.ArgumentParser(
        prog="consumer-hub",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    default_config = Path(os.environ.get("CONSUMER_HUB_CONFIG", DEFAULT_PATH))
    completion.files(parser.add_argument(
        "--config", type=Path, default=default_config, help=f"config file ({DEFAULT_PATH})"
    ))  # fmt: skip
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    # --config is also accepted after the sub-command (`consumer-hub run --config F`, as in the
    # systemd units); SUPPRESS keeps the global value when it is not given there.
    after = argparse.ArgumentParser(add_help=False)
    completion.files(after.add_argument(
        "--config", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS
    ))  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", title="commands")
    run = sub.add_parser("run", help="run the hub in the foreground", parents=[after])
    run.add_argument("--demo", action="store_true", help="also run the demo publisher")
    run.add_argument("--demo-rate", type=float, default=20.0, help="demo messages a second")
    sub.add_parser(
        "check", help="validate the configuration and load every consumer", parents=[after]
    )
    bus.add_parsers(sub, [after])  # publish, tail
    console.add_parsers(sub, [after])  # status, top
    deadletters.add_parser(sub, [after])
    query.add_parser(sub, [after])
    import_config.add_parser(sub)
    install_units.add_parser(sub)
    completion.add_parser(sub, parser)
    keygen.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging("INFO")
    try:
        if args.command in STANDALONE:  # the config only when no --url/--endpoint replaces it
            return STANDALONE[args.command](args)
        config = load_config(args.config)
        setup_logging(config.log_level)
        command = {"run": cmd_run, "check": cmd_check, "deadletters": deadletters.cmd_deadletters}
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
