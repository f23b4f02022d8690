"""A hostile server of our own (``tests/hostile/server.py``), not the emulator: each mode
misbehaves in a way the emulator's knobs cannot, and every adapter must still give the
caller exactly their own audio, a native error, bounded reconnects and no leaked key.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from conformance_kit import NATIVE, SECRET, assert_no_stale_window, key
from drivers import Driver, Turn, TurnResult, turn
from hostile.server import HTML_MESSAGE, JSON_MESSAGE, HostileServer

from smallest_emulator import Emulator

LONG = " ".join(f"Sentence {i} of a reply that keeps the bot talking a while." for i in range(12))
CLEAN = ["Fine, I am listening now.", "Sure, go right ahead."]
TEXT = "A short reply for a hostile server."
AFTER = "The next turn plays normally."
TIMEOUT_S = 1.0
STT_CONNECTIONS_MAX = 6
"""Connections an STT may open in 2 s against a server that closes each with 1008."""


def _native(driver: Driver, res: TurnResult) -> None:
    err = res.error
    assert err is not None, "the misbehaviour produced no error"
    assert err.cls in NATIVE[driver.name] | {"error event"}, err
    text = f"{err!r} {res.reported!r}"
    assert "RecursionError" not in text and "MemoryError" not in text, text


def _exact(server: HostileServer, res: TurnResult, text: str) -> None:
    (ctx,) = [c for c in server.contexts_for(text) if c.sent]
    assert res.error is None, res.error
    assert res.audio == ctx.pcm, "the turn's audio is not what was made for its text"


async def _turns(
    driver: Driver, emu: Emulator, server: HostileServer, turns: list[Turn], **kw: object
) -> list[TurnResult]:
    return await driver.tts_turns(
        emu,
        turns,
        api_key=key(),
        base_url=server.base_url,
        received=server.received,
        **kw,  # type: ignore[arg-type]
    )


async def test_cancelled_frames_in_flight_without_ids(emu: Emulator, driver: Driver):
    """After a cancel the cancelled context's frames keep coming (no context_id): none plays"""
    turns = [
        Turn(turn(LONG).tokens, barge_in_after_bytes=4096),
        turn(CLEAN[0]),
        Turn(turn(LONG.replace("reply", "story")).tokens, barge_in_after_s=0.0),
        turn(CLEAN[1]),
    ]
    async with HostileServer("cancel-inflight") as server:
        results = await _turns(driver, emu, server, turns, max_retry=0)
        for n in (0, 2):
            assert results[n].error is None and results[n].interrupted, results[n]
            cancelled = [c for c in server.contexts if c.cancelled]
            clean = results[n + 1]
            for ctx in cancelled:
                assert_no_stale_window(ctx.pcm, clean.audio)
            _exact(server, clean, CLEAN[n // 2])


async def test_socket_goes_silent_after_one_context(emu: Emulator, driver: Driver):
    """A socket that serves one context then goes silent: a timeout error, then a new socket"""
    texts = [TEXT, "This one is never answered.", AFTER]
    async with HostileServer("silent-after-one") as server:
        results = await _turns(
            driver, emu, server, [turn(t) for t in texts], timeout_s=TIMEOUT_S, max_retry=0
        )
        _exact(server, results[0], texts[0])
        _native(driver, results[1])
        err = results[1].error
        assert err is not None and err.kind == "timeout", f"not reported as a timeout: {err}"
        assert results[1].audio == b"" and results[1].seconds < TIMEOUT_S * 3 + 2
        _exact(server, results[2], texts[2])
        (last,) = server.contexts_for(AFTER)
        assert last.connection > server.contexts_for(TEXT)[0].connection, "the silent socket"
        assert server.connections.get("tts") == 2, "the silent socket is replaced once"


async def test_redirected_upgrade_never_carries_the_key(emu: Emulator, driver: Driver):
    """A 302 on the WebSocket upgrade to another port: the key never reaches it, an error"""
    async with HostileServer("redirect") as server:
        results = await _turns(driver, emu, server, [turn(TEXT)], timeout_s=TIMEOUT_S, max_retry=0)
        leaked = [a for a in server.auth_seen_by_target if SECRET in a]
        assert not leaked, f"the key was sent to the redirect target: {len(leaked)} time(s)"
        _native(driver, results[0])
        assert results[0].audio == b""


@pytest.mark.parametrize(
    ("mode", "message"),
    [("html-200", HTML_MESSAGE), ("json-200", JSON_MESSAGE)],
    ids=["html-200", "json-200"],
)
async def test_http_200_that_is_not_audio(driver: Driver, mode: str, message: str):
    """HTTP synthesis answered 200 text/html or application/json: the body's message, no audio"""
    async with HostileServer(mode) as server:
        res = await driver.http_turn(TEXT, api_key=key(), base_url=server.base_url)
        assert [c.text for c in server.contexts] == [TEXT]  # the caller's text, as given
    _native(driver, res)
    assert res.error is not None and message.lower() in res.error.message.lower(), res.error
    assert res.audio == b"", f"{len(res.audio)} bytes of a non-audio body were played"
    assert len(res.reported) == 1, res.reported  # reported once


async def test_absurd_word_timestamp_is_ignored(emu: Emulator, driver: Driver):
    """A word timestamp of 1e308: ignored, the turn completes exact and the next one plays"""
    texts = ["Hello there, how are you today?", AFTER]
    async with HostileServer("huge-timestamp") as server:
        results = await _turns(
            driver, emu, server, [turn(t) for t in texts], word_timestamps=True, timeout_s=2.0
        )
        for res, text in zip(results, texts, strict=True):
            _exact(server, res, text)
            assert all(abs(start) < 3600 for _, start, _ in res.words), res.words


@pytest.mark.parametrize("mode", ["oversized-frame", "nested-frame"])
async def test_hostile_frame_is_a_typed_error(emu: Emulator, driver: Driver, mode: str):
    """A > 4 MiB frame / 100,000-deep nested JSON frame: a native error, then a clean turn"""
    async with HostileServer(mode) as server:
        results = await _turns(
            driver, emu, server, [turn(LONG), turn(AFTER)], timeout_s=2.0, max_retry=0
        )
        _native(driver, results[0])
        assert results[0].seconds < 10
        first = server.contexts_for(LONG)[0]
        assert first.pcm.startswith(results[0].audio)
        _exact(server, results[1], AFTER)


async def test_nested_error_body_is_a_typed_error(emu: Emulator, driver: Driver):
    """A refused upgrade and a refused HTTP synthesis with a 100,000-deep JSON body"""
    async with HostileServer("nested-error-body") as server:
        results = await _turns(driver, emu, server, [turn(TEXT)], timeout_s=2.0, max_retry=0)
        http = await driver.http_turn(TEXT, api_key=key(), base_url=server.base_url)
    for res in (results[0], http):
        _native(driver, res)
        assert res.audio == b"" and res.seconds < 10
        assert res.error is not None and len(res.error.message) < 10_000, "the body, verbatim"


async def test_stt_reconnects_are_backed_off(driver: Driver):
    """STT sockets accepted then closed with 1008: a handful of reconnects in 2 s, not dozens"""
    async with HostileServer("stt-1008") as server:
        await driver.stt_hold(api_key=key(), base_url=server.base_url, seconds=2.0)
        opened = server.connections.get("stt", 0)
    assert 1 <= opened <= STT_CONNECTIONS_MAX, f"{opened} STT connections in 2 s"


async def test_server_quoting_the_key_leaks_nothing(
    emu: Emulator, driver: Driver, every_log_line: Callable[[], list[str]]
):
    """A 401 body and an error frame quoting the key: it is in no error, event or log line"""
    async with HostileServer("key-echo") as server:
        results = await _turns(
            driver, emu, server, [turn(TEXT), turn(AFTER)], timeout_s=TIMEOUT_S, max_retry=0
        )
        results.append(await driver.http_turn(TEXT, api_key=key(), base_url=server.base_url))
    for res in results:
        assert res.error is not None, "the server refused: an error was expected"
    texts = [f"{r.error!r}" for r in results] + [x for r in results for x in r.reported]
    logs = every_log_line()
    for where, items in (("errors/events", texts), ("logs", logs)):
        leaks = [t for t in items if SECRET in t]
        assert not leaks, f"the key leaked into {where}: {[_around(t) for t in leaks[:2]]}"


def _around(text: str) -> str:
    i = text.find(SECRET)
    return re.sub(r"\s+", " ", text[max(0, i - 80) : i + 40])
