"""Real servers the integration tests start for themselves (each private, on loopback)."""
