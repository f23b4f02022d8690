"""Fixtures: an emulator per test (parametrized over every profile where it matters)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from loguru import logger

from smallest_emulator import Emulator
from smallest_emulator.config import PROFILE_SWITCHES, PROFILES, EmulatorConfig

# The Pipecat pipeline harness is shared with the conformance suite and the benchmarks.
HARNESS = Path(__file__).resolve().parents[3] / "shared" / "harness"
if str(HARNESS) not in sys.path:
    sys.path.insert(0, str(HARNESS))

FAST = 20.0
"""Emulator pacing: audio streams 20x faster than real time."""
ON_TOP_OF = {"close-after-complete": "context-echo"}
"""Profiles applied on top of another reading. The spec/SDK server closes the socket after
a context's one ``complete`` (context-echo's reading: one per context, a cancel
acknowledged with one); on the per-release default it would close after the first
sentence and drop the rest of the text it had accepted, which no documented server does."""


@pytest.fixture(params=PROFILES)
def profile(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def emulator(profile: str) -> AsyncIterator[Emulator]:
    config = EmulatorConfig(speed=FAST).apply_profile(ON_TOP_OF.get(profile, profile))
    config = config.copy(**PROFILE_SWITCHES[profile])
    async with Emulator(config) as emu:
        yield emu


@pytest.fixture
async def default_emulator() -> AsyncIterator[Emulator]:
    async with Emulator(EmulatorConfig(speed=FAST)) as emu:
        yield emu


@pytest.fixture
def logs() -> Iterator[list[str]]:
    """Every record written to Pipecat's log (loguru) during the test, with its exception."""
    lines: list[str] = []

    def sink(message: Any) -> None:
        record = message.record
        exc = record["exception"]
        lines.append(f"{record['message']} {exc.value!r} {exc.value}" if exc else str(message))

    handle = logger.add(sink, level=0)
    yield lines
    logger.remove(handle)
