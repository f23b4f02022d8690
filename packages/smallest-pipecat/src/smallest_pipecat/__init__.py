"""Smallest AI services for Pipecat: Lightning TTS (WebSocket and HTTP), Pulse STT."""

from smallest_pipecat._version import __version__
from smallest_pipecat.http_tts import SmallestHttpTTSService
from smallest_pipecat.settings import SmallestSTTSettings, SmallestTTSSettings
from smallest_pipecat.stt import SmallestSTTService
from smallest_pipecat.tts import SmallestTTSService

__all__ = [
    "SmallestHttpTTSService",
    "SmallestSTTService",
    "SmallestSTTSettings",
    "SmallestTTSService",
    "SmallestTTSSettings",
    "__version__",
]
