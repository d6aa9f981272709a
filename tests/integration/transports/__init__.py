"""Integration tests of hub.transports."""
