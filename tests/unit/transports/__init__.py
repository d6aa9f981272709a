"""Unit tests of hub.transports."""
