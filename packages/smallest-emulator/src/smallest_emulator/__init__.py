"""A local Waves-compatible (Smallest AI) HTTP + WebSocket server for offline tests."""

from smallest_emulator._version import __version__
from smallest_emulator.config import (
    PROFILE_INFO,
    PROFILE_SWITCHES,
    PROFILES,
    EmulatorConfig,
    ProfileInfo,
    parse_overrides,
)
from smallest_emulator.engines.deterministic import Synthesis, WordSpan, synthesize
from smallest_emulator.records import SttRecord, TtsRecord, WordRecord, WsCounters
from smallest_emulator.server import Emulator, EmulatorThread

__all__ = [
    "PROFILES",
    "PROFILE_INFO",
    "PROFILE_SWITCHES",
    "Emulator",
    "EmulatorConfig",
    "EmulatorThread",
    "ProfileInfo",
    "SttRecord",
    "Synthesis",
    "TtsRecord",
    "WordRecord",
    "WordSpan",
    "WsCounters",
    "__version__",
    "parse_overrides",
    "synthesize",
]
