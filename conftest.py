"""Test-suite hygiene for every package: leaked sessions, tasks and futures fail the test.

asyncio reports an unclosed aiohttp session, a pending task that was garbage-collected
("Task was destroyed but it is pending!") and an exception nobody retrieved through the
loop's exception handler; by default that only logs. Here each report is recorded and
the test that caused it fails. A task still pending once every other fixture has been
torn down fails the test too (the test runner would otherwise cancel it quietly).
"""

from __future__ import annotations

import asyncio
import gc
import importlib.util
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

try:
    from hypothesis import settings as _hypothesis_settings
except ImportError:  # a session without property tests
    pass
else:
    # Property tests assert behaviour, never speed: a loaded 2-core CI machine must not
    # turn a slow example into a failure.
    _hypothesis_settings.register_profile("suite", deadline=None)
    _hypothesis_settings.load_profile("suite")

_reports: list[str] = []


def _record(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    message = str(context.get("message", ""))
    exc = context.get("exception")
    _reports.append(f"{message} {exc!r}" if exc else message)


def _strict_loop() -> asyncio.AbstractEventLoop:
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(_record)
    return loop


@pytest.hookimpl(optionalhook=True)
def pytest_asyncio_loop_factories(config: Any, item: Any) -> dict[str, Any]:
    """Every test loop records what it would otherwise only log."""
    return {"strict": _strict_loop}


# The vendor's SDK and official plugins judge the emulator in their own environment
# (`nox -s vendor`, pinned versions); a plain `pytest` without them leaves that suite out
# and says so, rather than failing on imports or counting it as passed.
_VENDOR_SUITE = Path(__file__).parent / "tests" / "vendor"
_VENDOR_PACKAGES = ("smallestai", "livekit.plugins.smallestai", "videosdk.plugins.smallestai")


def _vendor_missing() -> list[str]:
    missing = []
    for name in _VENDOR_PACKAGES:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            missing.append(name)
    return missing


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if collection_path == _VENDOR_SUITE and _vendor_missing():
        return True
    return None


def pytest_report_header(config: pytest.Config) -> str | None:
    missing = _vendor_missing()
    if missing:
        return f"tests/vendor not collected: needs {', '.join(missing)} (run nox -s vendor)"
    return None


_SETTLE_ROUNDS = 20


@pytest.fixture(autouse=True)
async def _no_task_left_behind() -> AsyncIterator[None]:
    yield
    current = asyncio.current_task()
    for _ in range(_SETTLE_ROUNDS):  # let tasks that are finishing finish
        leftover = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
        if not leftover:
            return
        await asyncio.sleep(0)
    for task in leftover:
        task.cancel()
    await asyncio.gather(*leftover, return_exceptions=True)
    names = ", ".join(sorted({t.get_name() + " " + repr(t.get_coro()) for t in leftover}))
    pytest.fail(f"tasks were left pending after the test: {names}")


@pytest.fixture(autouse=True)
def _fail_on_loop_reports() -> Iterator[None]:
    _reports.clear()
    yield
    gc.collect()
    reports = list(_reports)
    _reports.clear()
    if reports:
        pytest.fail("asyncio reported leaks or lost errors:\n  " + "\n  ".join(reports))
