"""Unit tests of hub.routing."""
