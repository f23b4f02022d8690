"""The vendor's own clients against the emulator: one fresh in-process emulator per test.

Nothing from the vendor packages is patched; each client reaches the emulator only through
its documented base-URL option (the SDK's ``environment=``, the plugins' ``base_url``).
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Iterator

import pytest

from smallest_emulator import Emulator, EmulatorConfig, EmulatorThread


def pytest_collection_finish(session: pytest.Session) -> None:
    """Freeze the import-time heap (three frameworks and the SDK): the root conftest's
    per-test ``gc.collect()`` then walks only what the test itself created."""
    gc.freeze()


def _config() -> EmulatorConfig:
    # unpaced, and `complete` right after the last chunk (clients may send their own backoff)
    return EmulatorConfig(speed=0, complete_backoff_ms=0)


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    """An emulator on this test's event loop."""
    async with Emulator(_config()) as server:
        yield server


@pytest.fixture
def emu_thread() -> Iterator[Emulator]:
    """An emulator on a background thread, for the SDK's synchronous client."""
    with EmulatorThread(_config()) as server:
        yield server
