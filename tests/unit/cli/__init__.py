"""Unit tests of hub.cli."""
