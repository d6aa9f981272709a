"""Unit tests of hub.workers."""
