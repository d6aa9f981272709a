"""Base settings (a fixture for tests/unit/cli/test_import_config.py)."""

config = {
    "environment": "dev",
    "topic_prefix": "org.fedoraproject",
    "endpoints": {"relay_outbound": ["tcp://127.0.0.1:4001"]},
    "relay_inbound": "tcp://127.0.0.1:2003",
    "zmq_publish_endpoints": "tcp://*:5999",
    "zmq_tcp_keepalive": 1,
    "moksha.workers_per_consumer": 1,
    "irc": {"network": "irc.libera.chat", "port": 6667},
}
