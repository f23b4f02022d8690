"""Fixtures shared by every scenario: the emulator, the drivers, keys and expected audio."""

from __future__ import annotations

import json
import logging
import sys
from array import array
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from drivers import DRIVERS, Driver
from emulator_helpers import emulator_key, expected_pcm  # noqa: F401 (scenarios import it here)
from loguru import logger as loguru_logger

from smallest_emulator import Emulator, EmulatorConfig
from smallest_emulator.config import PROFILES

SECRET = "sk_conformance_SECRET_1234"
"""The fake key every scenario uses, so any leak of it anywhere is recognisable."""
SCENARIOS = Path(__file__).parents[2] / "shared" / "scenarios"
ALL_PROFILES = list(PROFILES)
SUBSET = ["default", "multi-complete", "close-after-complete", "no-echo", "strict"]
"""Representative profiles for scenarios other than audio integrity (documented in the matrix)."""
ERROR_SHAPES = ["default", "error-string", "error-object", "legacy-frames", "strict"]
NATIVE = {
    "livekit": {"APIStatusError", "APIConnectionError", "APITimeoutError"},
    "pipecat": {"ErrorFrame"},
    "videosdk": {"SmallestError"},
}
"""The error classes each framework's callers handle."""
STALE_WINDOW_BYTES = 2048
SPEECH_LEVEL = 4096
"""The deterministic engine's speech samples are at least this loud; its silence is not."""


def texts() -> dict[str, Any]:
    return json.loads((SCENARIOS / "texts.json").read_text())


@pytest.fixture(params=list(DRIVERS))
def driver(request: pytest.FixtureRequest) -> Driver:
    return DRIVERS[request.param]


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    """Unpaced, no complete backoff unless a scenario asks for pacing."""
    async with Emulator(config=EmulatorConfig(speed=0.0, complete_backoff_ms=0)) as e:
        yield e


def key(profile: str = "default", **overrides: Any) -> str:
    """The secret with a profile and per-connection overrides (the emulator key grammar)."""
    return emulator_key(SECRET, profile, **overrides)


def ws_records(emu: Emulator) -> list[Any]:
    return [r for r in emu.tts_log if r.transport == "ws"]


def turn_records(emu: Emulator, texts: list[str]) -> list[Any]:
    """The emulator record of each turn, in order.

    A context replayed on a fresh socket (the old one was closed before any of its audio
    arrived) appears twice in a row; the turn's audio must then match the last attempt.
    """
    records = ws_records(emu)
    out: list[Any] = []
    i = 0
    for text in texts:
        matches = []
        while i < len(records) and records[i].text.strip() == text.strip():
            matches.append(records[i])
            i += 1
        assert matches, (
            f"no record for turn {text[:40]!r}; records: {[r.text[:20] for r in records]}"
        )
        out.append(matches[-1])
    assert i == len(records), "the emulator received contexts no turn asked for"
    return out


def _has_speech(window: bytes) -> bool:
    samples = array("h")
    samples.frombytes(window)
    if sys.byteorder != "little":
        samples.byteswap()
    return max(samples) >= SPEECH_LEVEL or min(samples) <= -SPEECH_LEVEL


def assert_no_stale_window(cancelled: bytes, audio: bytes, size: int = STALE_WINDOW_BYTES) -> None:
    """No ``size``-byte window of a cancelled context's speech appears in ``audio``.

    Windows start every ``size // 4`` bytes, so any leaked run of ``size * 5 // 4`` bytes
    or more is found. Silence is the same in every context and is not compared.
    """
    step = size // 4
    for start in range(0, max(0, len(cancelled) - size + 1), step):
        window = cancelled[start : start + size]
        if _has_speech(window) and window in audio:
            at = audio.find(window)
            raise AssertionError(
                f"stale audio: bytes {start}..{start + size} of the cancelled context "
                f"play at byte {at} of the next turn"
            )


@pytest.fixture
def every_log_line(caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], list[str]]]:
    """Every stdlib record at DEBUG (all loggers) and every loguru message (Pipecat)."""
    caplog.set_level(logging.DEBUG)
    loguru_lines: list[str] = []
    sink = loguru_logger.add(lambda m: loguru_lines.append(str(m)), level="TRACE")

    def lines() -> list[str]:
        stdlib = [f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records]
        return stdlib + loguru_lines

    try:
        yield lines
    finally:
        loguru_logger.remove(sink)
