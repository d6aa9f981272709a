"""The ZeroMQ transport: fedmsg's wire format on SUB (`input`) and PUB (`publisher`) sockets,
decoded by `codec`; upstream gaps from fedmsg's ``i`` counters (`gaps`). Its backlog lives in the
hub's own shared log (`hub.storage`): see `hub.transports.base`. Each module names its
thread (the reactor, mostly)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # mypy checks that this transport has the seam's shapes
    from hub.transports.base import Input, Output
    from hub.transports.zeromq.input import ZmqInput
    from hub.transports.zeromq.publisher import Publisher

    def _provides(received: ZmqInput, published: Publisher) -> tuple[Input, Output]:
        return received, published
