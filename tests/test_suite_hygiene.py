"""The suite-wide hygiene in conftest.py really fails leaky tests (checked with pytester)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).parents[1]


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A scratch project with this repo's conftest and pytest settings."""
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    lines = ["[pytest]", "asyncio_mode = auto", "asyncio_default_fixture_loop_scope = function"]
    lines.append("filterwarnings =")
    lines += [f"    {f}" for f in options["filterwarnings"]]
    pytester.makeini("\n".join(lines))
    return pytester


LEAKS = {
    "unclosed_session": """
        import aiohttp
        async def test_leak():
            aiohttp.ClientSession()
    """,
    "destroyed_pending_task": """
        import asyncio
        async def test_leak():
            asyncio.get_running_loop().create_task(asyncio.sleep(3600))
    """,
    "exception_never_retrieved": """
        import asyncio
        async def test_leak():
            fut = asyncio.get_running_loop().create_future()
            fut.set_exception(RuntimeError("lost"))
            del fut
    """,
    "coroutine_never_awaited": """
        import asyncio
        async def work():
            pass
        def test_leak():
            work()
    """,
}


@pytest.mark.parametrize("source", LEAKS.values(), ids=list(LEAKS))
def test_a_leaky_test_fails(project: pytest.Pytester, source: str) -> None:
    project.makepyfile(test_leaky=source)
    result = project.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) + outcomes.get("errors", 0) + outcomes.get("error", 0) >= 1, (
        result.stdout.str()
    )


def test_a_clean_test_passes(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_clean="""
        import aiohttp
        async def test_clean():
            async with aiohttp.ClientSession():
                pass
        """
    )
    result = project.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)
