"""Integration tests of hub.transports.amqp against the private RabbitMQ node."""
