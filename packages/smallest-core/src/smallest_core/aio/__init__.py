"""The asyncio I/O layer: moves bytes between a socket and the sans-I/O core.

Every protocol decision stays in the pure modules; this package only reads, feeds the
protocol, sends what it queued and sleeps until the protocol's next deadline. The pure
modules never import it (a test enforces that), so ``import smallest_core`` stays free of
asyncio and of any third-party package; this layer needs ``aiohttp`` (the transport the
LiveKit and VideoSDK adapters are handed), imported only when this package is.
"""

from smallest_core.aio.bounded import read_bounded
from smallest_core.aio.keepalive import keep_alive
from smallest_core.aio.tts_socket import EventSink, TTSSocket
from smallest_core.aio.v4_socket import TurnEvent, TurnSink, V4Socket

__all__ = [
    "EventSink",
    "TTSSocket",
    "TurnEvent",
    "TurnSink",
    "V4Socket",
    "keep_alive",
    "read_bounded",
]
