"""One driver per framework; scenarios are parametrized over :data:`DRIVERS`."""

from __future__ import annotations

from .base import Caps, Driver, Failure, STTResult, Turn, TurnResult, sockets_settle, turn
from .livekit import LiveKitDriver
from .pipecat import PipecatDriver
from .truth import Received, check_caller_text, emulator_received
from .videosdk import VideoSDKDriver

DRIVERS: dict[str, Driver] = {
    d.name: d for d in (LiveKitDriver(), PipecatDriver(), VideoSDKDriver())
}

__all__ = [
    "DRIVERS",
    "Caps",
    "Driver",
    "Failure",
    "Received",
    "STTResult",
    "Turn",
    "TurnResult",
    "check_caller_text",
    "emulator_received",
    "sockets_settle",
    "turn",
]
