"""consumer-hub: a message-bus consumer daemon.

The public names a plugin author needs live here: `Consumer` to subclass, `Message` it receives,
the outcome exceptions its `consume()` may raise, and `Producer` for code that runs on a
schedule. Importing this package has no side effects.
"""

from hub.consumer import Consumer
from hub.errors import Drop, Halt, HubError, Reject, Retry, Unavailable
from hub.message import Message
from hub.producer import Producer

__version__ = "0.1.0"

__all__ = [
    "Consumer",
    "Drop",
    "Halt",
    "HubError",
    "Message",
    "Producer",
    "Reject",
    "Retry",
    "Unavailable",
    "__version__",
]
