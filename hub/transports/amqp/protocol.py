"""pika's Twisted protocol with the hub's delivery reader in front, remembering why it was lost.

Runs on the reactor thread. `HubProtocol` is pika's ``TwistedProtocolConnection`` (connection
handshake, channels, RPCs, heartbeats, publishing: all pika's), with two changes:

- each read goes through a `hub.transports.amqp.frames.FrameReader`, which takes the routed
  deliveries of the consuming channel for itself and hands pika everything else, in order
  (`ConsumeChannel` routes its consumer tags here once consuming);
- it keeps why the TCP/TLS connection was lost (pika's own error for a failed handshake is only
  ``AMQPConnectionError(1)``; this keeps, e.g., the TLS error).
"""

from __future__ import annotations

from typing import Any

from pika.adapters.twisted_connection import TwistedProtocolConnection
from twisted.internet import protocol

from hub.transports.amqp.frames import FrameReader, OnDeliver


class HubProtocol(TwistedProtocolConnection):  # type: ignore[misc] # pika ships no types
    """pika's protocol; deliveries of routed consumer tags read by a `FrameReader`."""

    lost_reason: Any = None

    def __init__(self, parameters: Any, custom_reactor: Any = None) -> None:
        super().__init__(parameters, custom_reactor=custom_reactor)
        self.reader = FrameReader(self._impl.data_received, self._taken)

    def route(self, channel: int, consumer_tag: str, on_deliver: OnDeliver) -> None:
        """``consumer_tag``'s deliveries on ``channel`` go to ``on_deliver``, not to pika."""
        self.reader.route(channel, consumer_tag, on_deliver)

    def unroute(self, channel: int, consumer_tag: str | None = None) -> None:
        """``consumer_tag``'s deliveries (every tag's, if None) on ``channel`` go to pika."""
        self.reader.unroute(channel, consumer_tag)

    def dataReceived(self, data: bytes) -> None:
        self.reader.feed(data)

    def _taken(self, count: int, frames: int) -> None:
        """Bytes and frames read by the reader: counted as pika counts its own (its heartbeat
        checker takes a connection with new bytes for alive)."""
        self._impl.bytes_received += count
        self._impl.frames_received += frames

    def connectionLost(self, reason: Any = protocol.connectionDone) -> None:
        self.lost_reason = reason
        super().connectionLost(reason)
