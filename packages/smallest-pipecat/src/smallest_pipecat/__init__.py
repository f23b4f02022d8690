"""Smallest AI services for Pipecat: Lightning TTS (WebSocket, HTTP, v4 live sessions),
Pulse STT (streaming and pre-recorded segments)."""

from smallest_pipecat._version import __version__
from smallest_pipecat.http_tts import SmallestHttpTTSService
from smallest_pipecat.settings import SmallestSTTSettings, SmallestTTSSettings
from smallest_pipecat.settings_v4 import SmallestLightningV4TTSSettings
from smallest_pipecat.stt import SmallestSTTService
from smallest_pipecat.stt_segmented import (
    SmallestSegmentedSTTService,
    SmallestSegmentedSTTSettings,
)
from smallest_pipecat.tts import SmallestTTSService
from smallest_pipecat.tts_v4 import SmallestLightningV4TTSService

__all__ = [
    "SmallestHttpTTSService",
    "SmallestLightningV4TTSService",
    "SmallestLightningV4TTSSettings",
    "SmallestSTTService",
    "SmallestSTTSettings",
    "SmallestSegmentedSTTService",
    "SmallestSegmentedSTTSettings",
    "SmallestTTSService",
    "SmallestTTSSettings",
    "__version__",
]
