"""The API key never leaks: not in DEBUG logs, errors, reprs or anything the server saw."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conformance_kit import SECRET, key
from drivers import Driver, turn

from smallest_emulator import Emulator
from smallest_emulator.engines.deterministic import synthesize


async def test_the_key_never_leaks(
    emu: Emulator, driver: Driver, every_log_line: Callable[[], list[str]]
):
    """A full run (turns, a server error, a 401, STT) at DEBUG: the key appears nowhere."""
    texts: list[str] = []
    turns = [turn("Hello there."), turn("Bad voice.", options={"voice_id": "nobody"})]
    results = await driver.tts_turns(emu, turns, api_key=key(), max_retry=0)
    results += await driver.tts_turns(emu, [turn("Hi.")], api_key=f"{SECRET}_invalid")
    texts += [f"{r.error!r}" for r in results]
    assert results[0].error is None and results[1].error is not None
    stt = await driver.stt_stream(emu, [synthesize("hello", 16000).pcm], api_key=key())
    texts.append(f"{stt!r}")
    for plugin in (
        driver.build_tts(api_key=SECRET, base_url=emu.base_url),
        driver.build_stt(api_key=SECRET, base_url=emu.base_url),
    ):
        texts.append(driver.reprs(plugin))
        await driver.aclose(plugin)
    server_saw = [*emu.requests, *(f"{r.params}" for r in emu.stt_log)]
    logs = every_log_line()
    assert any("GET /waves/v1" in line for line in logs), "DEBUG logging was not captured"
    for where, items in (("logs", logs), ("errors/reprs", texts), ("server", server_saw)):
        leaks = [t for t in items if SECRET in t]
        assert not leaks, f"the key leaked into {where}: {leaks[:2]}"


async def test_plain_http_to_a_remote_host_is_refused(driver: Driver):
    """Sending the key over http:// to a non-loopback host: ValueError at construction."""
    for build in (driver.build_tts, driver.build_stt):
        with pytest.raises(ValueError, match="http://") as info:
            build(api_key=SECRET, base_url="http://api.example.com")
        assert SECRET not in str(info.value)
