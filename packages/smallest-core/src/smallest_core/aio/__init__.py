"""The asyncio I/O layer: moves bytes between a socket and the sans-I/O core.

Every protocol decision stays in the pure modules; this package only reads, feeds the
protocol, sends what it queued and sleeps until the protocol's next deadline
(:class:`SocketReader`, over a :class:`Transport`). The pure modules never import it (a
test enforces that), so ``import smallest_core`` stays free of asyncio and of any
third-party package. This layer needs ``aiohttp`` (the transport the LiveKit and VideoSDK
adapters are handed); :class:`WebsocketsTransport` (Pipecat's ``websockets``) is imported
only when first asked for.
"""

from typing import TYPE_CHECKING, Any

from smallest_core.aio.bounded import read_bounded
from smallest_core.aio.keepalive import keep_alive
from smallest_core.aio.reader import OnDeadline, OnFrame, SocketReader
from smallest_core.aio.transport import AiohttpTransport, Transport
from smallest_core.aio.tts_socket import EventSink, TTSSocket
from smallest_core.aio.v4_socket import TurnEvent, TurnSink, V4Socket

if TYPE_CHECKING:
    from smallest_core.aio.websockets_transport import WebsocketsTransport


def __getattr__(name: str) -> Any:
    if name == "WebsocketsTransport":
        from smallest_core.aio.websockets_transport import WebsocketsTransport

        return WebsocketsTransport
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AiohttpTransport",
    "EventSink",
    "OnDeadline",
    "OnFrame",
    "SocketReader",
    "TTSSocket",
    "Transport",
    "TurnEvent",
    "TurnSink",
    "V4Socket",
    "WebsocketsTransport",
    "keep_alive",
    "read_bounded",
]
