"""Unit tests of hub.config."""
