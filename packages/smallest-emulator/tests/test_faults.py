"""Fault knobs and per-connection overrides."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from emulator_kit import AUTH, collect_until_complete, fast_config, msg, recv_json

from smallest_emulator import Emulator, EmulatorConfig, parse_overrides


def test_override_grammar() -> None:
    o = parse_overrides("sk_x;profile=multi-complete;pause_ms=1000;transcript=a b|c", has_key=True)
    cfg = EmulatorConfig().with_overrides(o)
    assert cfg.complete_mode == "per-release" and cfg.pause_ms == 1000
    assert cfg.transcript == ("a b", "c")
    with pytest.raises(ValueError):
        parse_overrides("sk;bogus=1", has_key=True)


async def test_key_overrides_and_key_not_logged(emu: Emulator, http: aiohttp.ClientSession) -> None:
    key = {"Authorization": "Bearer sk_secret123;complete_format=legacy"}
    async with http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=key) as ws:
        await ws.send_json(msg("Hi."))
        frames = await collect_until_complete(ws)
    assert frames[-1]["message"] == "All chunks sent"
    assert emu.config.complete_format == "current"
    assert not any("sk_secret123" in line for line in emu.requests)


async def test_query_override(emu: Emulator, http: aiohttp.ClientSession) -> None:
    url = emu.ws_url + "/waves/v1/tts/live?emulator=echo_context_id%3Dfalse"
    async with http.ws_connect(url, headers=AUTH) as ws:
        await ws.send_json(msg("Hi.", context_id="c"))
        frames = await collect_until_complete(ws)
    assert all("context_id" not in f for f in frames)


async def test_error_after_chunks_keeps_socket(http: aiohttp.ClientSession) -> None:
    async with Emulator(fast_config(error_after_chunks=2)) as emu:  # noqa: SIM117
        async with http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=AUTH) as ws:
            await ws.send_json(msg("word " * 50))
            frames = [await recv_json(ws) for _ in range(3)]
            assert [f["status"] for f in frames] == ["chunk", "chunk", "error"]
            await ws.send_json(msg("Again."))
            await collect_until_complete(ws)


async def test_close_after_chunks_aborts(http: aiohttp.ClientSession) -> None:
    async with Emulator(fast_config(close_after_chunks=1)) as emu:  # noqa: SIM117
        async with http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=AUTH) as ws:
            await ws.send_json(msg("word " * 50))
            await recv_json(ws)
            m = await ws.receive(timeout=5)
            assert m.type in (
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.ERROR,
                aiohttp.WSMsgType.CLOSE,
            )


@pytest.mark.parametrize(
    ("knob", "check"),
    [
        (
            "malformed_json_after_chunks",
            lambda m: m.type == aiohttp.WSMsgType.TEXT and m.data.endswith('"da'),
        ),
        ("unknown_status_after_chunks", lambda m: '"status":"queued"' in m.data),
        ("binary_frame_after_chunks", lambda m: m.type == aiohttp.WSMsgType.BINARY),
    ],
)
async def test_odd_frames(http: aiohttp.ClientSession, knob: str, check: object) -> None:
    async with Emulator(fast_config(**{knob: 1})) as emu:  # noqa: SIM117
        async with http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=AUTH) as ws:
            await ws.send_json(msg("Hello there friend."))
            await recv_json(ws)
            m = await ws.receive(timeout=5)
            assert check(m)  # type: ignore[operator]


async def test_pause_and_ttfb(http: aiohttp.ClientSession) -> None:
    async with Emulator(fast_config(pause_ms=300, pause_after_chunks=1, ttfb_ms=100)) as emu:  # noqa: SIM117
        async with http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=AUTH) as ws:
            t0 = time.monotonic()
            await ws.send_json(msg("word " * 20))
            await recv_json(ws)
            t1 = time.monotonic()
            await recv_json(ws)
            t2 = time.monotonic()
    assert t1 - t0 >= 0.09 and t2 - t1 >= 0.28


async def test_tts_concurrency_limit(http: aiohttp.ClientSession) -> None:
    async with Emulator(fast_config(concurrency_limit=0)) as emu:
        async with http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=AUTH) as ws:
            await ws.send_json(msg("Hi."))
            f = await recv_json(ws)
            assert f["status"] == "error" and "Concurrency" in f["message"]
        async with http.post(emu.base_url + "/waves/v1/tts", json=msg("Hi."), headers=AUTH) as r:
            assert r.status == 429 and r.headers["Retry-After"] == "1"


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_http_status(http: aiohttp.ClientSession, status: int) -> None:
    async with Emulator(fast_config(http_status=status)) as emu:
        async with http.post(emu.base_url + "/waves/v1/tts", json=msg("Hi."), headers=AUTH) as r:
            assert r.status == status and "message" in await r.json()
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=AUTH)


async def test_never_answer_and_drop(http: aiohttp.ClientSession) -> None:
    async with Emulator(fast_config(never_answer=True)) as emu:
        with pytest.raises(asyncio.TimeoutError):
            async with http.post(
                emu.base_url + "/waves/v1/tts",
                json=msg("Hi."),
                headers=AUTH,
                timeout=aiohttp.ClientTimeout(total=0.3),
            ):
                pass
        async with http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=AUTH) as ws:
            await ws.send_json(msg("Hi."))
            with pytest.raises(asyncio.TimeoutError):
                await ws.receive(timeout=0.3)
    async with Emulator(fast_config(drop_connection_on_connect=True)) as emu:
        with pytest.raises(aiohttp.ClientError):
            await http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=AUTH)


async def test_idle_timeout_config(http: aiohttp.ClientSession) -> None:
    async with Emulator(fast_config(idle_timeout_s=0.2)) as emu:
        url = emu.ws_url + "/waves/v1/stt/live?model=pulse&language=en"
        async with http.ws_connect(url, headers=AUTH) as ws:
            f = await recv_json(ws)
            assert f["type"] == "error"
