"""Smallest AI (Lightning TTS, Pulse STT) for LiveKit Agents.

``from smallest_livekit import TTS, STT`` then ``AgentSession(tts=TTS(), stt=STT(), ...)``.
"""

from livekit.agents import Plugin

from smallest_core import Affect

from ._version import __version__
from .lightning_v4 import LightningV4Stream, LightningV4TTS
from .log import logger
from .stt import STT, SpeechStream
from .tts import TTS, ChunkedStream, SynthesizeStream

__all__ = [
    "STT",
    "TTS",
    "Affect",
    "ChunkedStream",
    "LightningV4Stream",
    "LightningV4TTS",
    "SpeechStream",
    "SynthesizeStream",
    "__version__",
]


class SmallestPlugin(Plugin):
    """Registers the package with LiveKit Agents (logging, plugin listing)."""

    def __init__(self) -> None:
        super().__init__(__name__, __version__, __package__ or __name__, logger)


Plugin.register_plugin(SmallestPlugin())
