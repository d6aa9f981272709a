"""Unit tests of hub.transports.zeromq."""
