"""Every TTS driver, by framework and implementation."""

from __future__ import annotations

from drivers import livekit, pipecat, videosdk
from drivers.base import TTSDriver

TTS_DRIVERS: dict[str, dict[str, type[TTSDriver]]] = {
    "livekit": {"ours": livekit.Ours, "official": livekit.Official},
    "pipecat": {"ours": pipecat.Ours, "official": pipecat.Official},
    "videosdk": {"ours": videosdk.Ours, "official": videosdk.Official},
}
