"""Integration tests of hub.observe: its pages on real ports, with real HTTP clients."""
