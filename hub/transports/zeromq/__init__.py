"""The ZeroMQ transport: fedmsg's wire format on SUB and PUB sockets."""
