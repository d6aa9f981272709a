"""Transports: how messages reach the hub and leave it (ZeroMQ today)."""
