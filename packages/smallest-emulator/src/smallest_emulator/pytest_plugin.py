"""pytest plugin (registered through the ``pytest11`` entry point): the ``emulator`` fixture.

``emulator`` is an async, function-scoped :class:`~smallest_emulator.Emulator` on a free port,
unpaced (``speed=0``) and with ``complete_backoff_ms=0``. It works in pytest-asyncio's
``auto`` and ``strict`` modes (in strict mode mark the test ``@pytest.mark.asyncio``).
Change ``emulator.config`` inside a test to apply profiles or faults.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar, cast

import pytest

from smallest_emulator.config import EmulatorConfig
from smallest_emulator.server import Emulator


def fixture_config() -> EmulatorConfig:
    """The configuration the ``emulator`` fixture starts with."""
    return EmulatorConfig(speed=0.0, complete_backoff_ms=0)


F = TypeVar("F", bound=Callable[..., Any])


def _async_fixture(func: F) -> F:
    """pytest-asyncio's fixture decorator (so strict mode works), else pytest's."""
    try:
        import pytest_asyncio
    except ImportError:  # pragma: no cover - pytest-asyncio is how async fixtures run
        return cast(F, pytest.fixture(func))
    return cast(F, pytest_asyncio.fixture(func))


@_async_fixture
async def emulator() -> AsyncIterator[Emulator]:
    """A running emulator for one test (unpaced, no ``complete`` backoff)."""
    async with Emulator(fixture_config()) as server:
        yield server
