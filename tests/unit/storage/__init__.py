"""Unit tests of hub.storage."""
