"""The AMQP (RabbitMQ) transport, wire-compatible with fedora-messaging. See docs/amqp.md.

Modules: `bindings` (topic globs -> binding keys), `wire` (fedora-messaging's message format),
`params` (URL, TLS, backoff), `channel` (one consuming channel: declare, bind, consume, ack),
`publishing` (the confirm-mode publishing channel), `connection` (connect, reconnect, both
channels; the one object the rest of the hub uses), `errors`.
"""
