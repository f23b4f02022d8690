"""The ``emulator`` fixture shipped through the ``pytest11`` entry point."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

_TEST = """
import aiohttp
import pytest


{marker}
async def test_fixture_serves(emulator):
    assert emulator.config.speed == 0 and emulator.config.complete_backoff_ms == 0
    async with aiohttp.ClientSession() as http:
        async with http.get(
            emulator.base_url + "/waves/v1/lightning-v3.1/get_voices",
            headers={{"Authorization": "Bearer sk_test"}},
        ) as r:
            assert r.status == 200
"""


@pytest.mark.parametrize(("mode", "marker"), [("strict", "@pytest.mark.asyncio"), ("auto", "")])
def test_emulator_fixture(pytester: pytest.Pytester, mode: str, marker: str) -> None:
    pytester.makepyfile(_TEST.format(marker=marker))
    pytester.makeini(f"[pytest]\nasyncio_mode = {mode}\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
