"""Unit tests of hub.plugins."""
