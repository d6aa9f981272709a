"""Unit tests of hub.lifecycle."""
