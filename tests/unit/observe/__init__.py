"""Unit tests of hub.observe."""
