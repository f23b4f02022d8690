"""Fixtures: an emulator per test (parametrized over every profile where it matters)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from smallest_emulator import Emulator
from smallest_emulator.config import PROFILES, EmulatorConfig

FAST = 20.0
"""Emulator pacing: audio streams 20x faster than real time."""


@pytest.fixture(params=PROFILES)
def profile(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def emulator(profile: str) -> AsyncIterator[Emulator]:
    config = EmulatorConfig(speed=FAST).apply_profile(profile)
    async with Emulator(config) as emu:
        yield emu


@pytest.fixture
async def default_emulator() -> AsyncIterator[Emulator]:
    async with Emulator(EmulatorConfig(speed=FAST)) as emu:
        yield emu
