"""Fault matrix: each fault yields the framework's native error with the server's message,
the documented retry behaviour, within bounded time, and the plugin keeps working.

Retry policy asserted per adapter: LiveKit retries retryable failures itself
(``APIConnectOptions.max_retry``, 1 here → 2 attempts) unless audio was already played;
Pipecat and VideoSDK do not retry a refused request (the next turn reconnects); all three
replay a context once on a fresh socket only when it failed before any audio on a stale one.
"""

from __future__ import annotations

import socket

import pytest
from conformance_kit import ERROR_SHAPES, NATIVE, expected_pcm, key, turn_records
from drivers import Driver, TurnResult, sockets_settle, turn

from smallest_emulator import Emulator

TEXT = "This reply is long enough to span several chunks of audio, for sure."
AFTER = "The next turn works fine."
MAX_RETRY = 1
TIMEOUT_S = 1.0


def _expected_attempts(driver: Driver, retryable: bool) -> int:
    return MAX_RETRY + 1 if retryable and driver.caps.retries_in_framework else 1


def _check_error(driver: Driver, res: TurnResult, message: str) -> None:
    assert res.error is not None, "the fault produced no error"
    assert res.error.cls in NATIVE[driver.name]
    assert message.lower() in res.error.message.lower()
    assert res.seconds < 10.0


async def _recovers(emu: Emulator, driver: Driver, results: list[TurnResult]) -> None:
    """The turn after the fault is exact and no socket is left open."""
    (rec,) = [r for r in emu.tts_log if r.text.strip() == AFTER]
    assert results[-1].error is None and results[-1].audio == expected_pcm(rec)


@pytest.mark.parametrize("profile", ERROR_SHAPES)
async def test_error_frame_mid_stream(emu: Emulator, driver: Driver, profile: str):
    """An error frame of each shape mid-stream: the server's message, one attempt, recovery."""
    emu.config.error_after_chunks = 2
    emu.config.error_message = "Synthesis backend failed"

    async def heal(*_: object) -> None:
        emu.config.error_after_chunks = None

    results = await driver.tts_turns(
        emu, [turn(TEXT), turn(AFTER)], api_key=key(profile), max_retry=MAX_RETRY, between=heal
    )
    _check_error(driver, results[0], "Synthesis backend failed")
    first = next(r for r in emu.tts_log if r.text.strip() == TEXT)
    assert bytes(first.pcm).startswith(results[0].audio)  # what played is the turn's own
    assert results[0].error.attempts == 1  # audio was played: never replayed
    assert len(results[0].reported) == 1, results[0].reported  # reported once
    await _recovers(emu, driver, results)


@pytest.mark.parametrize(
    ("fault", "message", "retryable"),
    [
        ("close_after_chunks", "", True),
        ("malformed_json_after_chunks", "", True),
    ],
    ids=["server-closes-mid-stream", "malformed-json"],
)
async def test_broken_stream_fails_the_turn(
    emu: Emulator, driver: Driver, fault: str, message: str, retryable: bool
):
    """Server closes mid-stream / malformed JSON: the turn fails, no replay, next turn exact."""
    setattr(emu.config, fault, 2)

    async def heal(*_: object) -> None:
        setattr(emu.config, fault, None)

    results = await driver.tts_turns(
        emu, [turn(TEXT), turn(AFTER)], api_key=key(), max_retry=MAX_RETRY, between=heal
    )
    _check_error(driver, results[0], message)
    first = next(r for r in emu.tts_log if r.text.strip() == TEXT)
    assert bytes(first.pcm).startswith(results[0].audio)
    # retryable by the core, but audio already played: LiveKit marks it non-retryable
    assert results[0].error.retryable is (retryable and driver.name != "livekit")
    assert results[0].error.attempts == 1
    await _recovers(emu, driver, results)
    assert await sockets_settle(emu) == 0


@pytest.mark.parametrize(
    ("fault", "value"),
    [("unknown_status_after_chunks", 2), ("binary_frame_after_chunks", 2)],
    ids=["unknown-status", "binary-frame"],
)
async def test_ignored_frames_do_not_fail_the_turn(
    emu: Emulator, driver: Driver, fault: str, value: int
):
    """Unknown-status / unexpected binary frame: ignored with a warning, the turn is exact."""
    setattr(emu.config, fault, value)
    results = await driver.tts_turns(emu, [turn(TEXT), turn(AFTER)], api_key=key())
    for res, rec in zip(results, turn_records(emu, [TEXT, AFTER]), strict=True):
        assert res.error is None and res.audio == expected_pcm(rec)


@pytest.mark.parametrize(
    ("status", "message", "retryable"),
    [
        (429, "Concurrency limit exceeded", True),
        (500, "Internal server error", True),
        (503, "Service temporarily unavailable", True),
    ],
)
async def test_refused_upgrade(
    emu: Emulator, driver: Driver, status: int, message: str, retryable: bool
):
    """429 (Retry-After) / 500 / 503 on connect: native error, server message, retry policy."""
    emu.config.http_status = status

    async def heal(*_: object) -> None:
        emu.config.http_status = None

    results = await driver.tts_turns(
        emu, [turn(TEXT), turn(AFTER)], api_key=key(), max_retry=MAX_RETRY, between=heal
    )
    err = results[0].error
    _check_error(driver, results[0], message)
    assert err.status_code == status and err.retryable is retryable
    assert err.attempts == _expected_attempts(driver, retryable)
    assert results[0].audio == b""
    await _recovers(emu, driver, results)


async def test_unauthorized_key(emu: Emulator, driver: Driver):
    """401: native auth error with the server's message, exactly one attempt."""
    results = await driver.tts_turns(
        emu, [turn(TEXT)], api_key="sk_invalid_conformance", max_retry=MAX_RETRY
    )
    err = results[0].error
    _check_error(driver, results[0], "Invalid API key")
    assert err.status_code == 401 and err.retryable is False and err.attempts == 1
    assert len(results[0].reported) == 1, results[0].reported
    assert emu.tts_log == []


@pytest.mark.parametrize("profile", ERROR_SHAPES)
async def test_invalid_voice(emu: Emulator, driver: Driver, profile: str):
    """400 invalid voice (error frame): 'Invalid Voice ID', not retried, next voice works."""
    turns = [turn(TEXT, options={"voice_id": "nobody"}), turn(AFTER, options={"voice_id": "liam"})]
    results = await driver.tts_turns(emu, turns, api_key=key(profile), max_retry=MAX_RETRY)
    err = results[0].error
    _check_error(driver, results[0], "Invalid Voice ID")
    assert "'nobody'" in err.message  # the service does not say which voice: we do
    assert err.retryable is False and results[0].audio == b""
    assert err.attempts <= 1 and len(results[0].reported) == 1, results[0].reported  # no retry
    assert [r.text.strip() for r in emu.tts_log] == [AFTER]  # nothing synthesized for it
    await _recovers(emu, driver, results)


async def test_idle_timeout_close_is_transparent(emu: Emulator, driver: Driver):
    """The server's idle-timeout close between turns: no error, next turn exact, new socket."""

    async def idle(*_: object) -> None:
        assert await sockets_settle(emu, within=5.0) == 0  # the server closed the idle socket

    results = await driver.tts_turns(
        emu,
        [turn(TEXT), turn(AFTER)],
        api_key=key(idle_timeout_s=0.2),
        server_idle_timeout=True,
        between=idle,
    )
    for res, rec in zip(results, turn_records(emu, [TEXT, AFTER]), strict=True):
        assert res.error is None and res.audio == expected_pcm(rec)
        assert res.reported == [], res.reported  # nothing reported either
    assert emu.ws_connections.per_route.get("tts") == 2


async def test_server_never_answers(emu: Emulator, driver: Driver):
    """A server that accepts and never answers: a timeout error within bounded time."""
    results = await driver.tts_turns(
        emu, [turn(TEXT)], api_key=key(never_answer="true"), timeout_s=TIMEOUT_S, max_retry=0
    )
    res = results[0]
    assert res.error is not None and res.error.cls in NATIVE[driver.name], res.error
    assert res.audio == b""
    assert res.seconds < TIMEOUT_S * 3 + 1.0
    assert await sockets_settle(emu) == 0


async def test_connection_refused(emu: Emulator, driver: Driver):
    """A closed port: a connection error within bounded time, retried per the framework."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    results = await driver.tts_turns(
        emu,
        [turn(TEXT)],
        api_key=key(),
        base_url=f"http://127.0.0.1:{port}",
        timeout_s=TIMEOUT_S,
        max_retry=MAX_RETRY,
    )
    res = results[0]
    assert res.error is not None and res.error.cls in NATIVE[driver.name], res.error
    assert res.error.retryable is True
    assert res.seconds < 5.0
