"""Fixtures shared by every scenario: the emulator, the drivers, keys and expected audio."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from drivers import DRIVERS, Driver

from smallest_emulator import Emulator, EmulatorConfig
from smallest_emulator.config import PROFILES
from smallest_emulator.engines.deterministic import releases_pcm

SECRET = "sk_conformance_SECRET_1234"
"""The fake key every scenario uses, so any leak of it anywhere is recognisable."""
SCENARIOS = Path(__file__).parents[2] / "shared" / "scenarios"
ALL_PROFILES = list(PROFILES)
SUBSET = ["default", "multi-complete", "close-after-complete", "no-echo", "strict"]
"""Representative profiles for scenarios other than audio integrity (documented in the matrix)."""
ERROR_SHAPES = ["default", "error-string", "error-object", "legacy-frames", "strict"]


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
    parts = [SECRET, f"profile={profile}", *(f"{k}={v}" for k, v in overrides.items())]
    return ";".join(parts)


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


def expected_pcm(record: Any) -> bytes:
    """The record's audio recomputed from its releases by the deterministic engine."""
    out = releases_pcm(record.releases, record.sample_rate, voice_id=record.voice_id)
    assert out == bytes(record.pcm), "the emulator's record differs from its engine"
    return out
