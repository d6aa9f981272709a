"""Unit tests of hub.transports.amqp."""
