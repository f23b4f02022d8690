"""CLI subprocess, threaded runner, and a 200-stream load test."""

from __future__ import annotations

import asyncio

import aiohttp
from emulator_kit import AUTH, cli, collect_until_complete, fast_config, msg

from smallest_emulator import Emulator, EmulatorThread


async def test_cli_prints_base_url_and_serves(http: aiohttp.ClientSession) -> None:
    async with cli("--profile", "multi-complete") as (stdout, line):
        assert line.startswith("http://127.0.0.1:")
        async with http.get(
            line + "/waves/v1/lightning-v3.1/get_voices",
            headers={"Authorization": "Bearer sk_cli_secret"},
        ) as r:
            assert r.status == 200
        log = ""
        while "GET " not in log:
            log = (await asyncio.wait_for(stdout.readline(), 10)).decode()
        assert "GET /waves/v1/lightning-v3.1/get_voices 200" in log and "sk_cli" not in log


def test_threaded_runner() -> None:
    import json
    import urllib.request

    with EmulatorThread(fast_config()) as emu:
        req = urllib.request.Request(
            emu.base_url + "/waves/v1/lightning-v3.1/get_voices", headers=AUTH
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            assert json.loads(r.read())["voices"]
    _ = json


async def test_200_concurrent_streams() -> None:
    async with Emulator(fast_config(speed=20.0)) as emu:
        conn = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=conn) as http:

            async def one(i: int) -> int:
                async with http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=AUTH) as ws:
                    await ws.send_json(
                        msg(f"Stream number {i} says hello there.", context_id=f"c{i}")
                    )
                    frames = await collect_until_complete(ws, wait_s=60)
                    return len(frames)

            counts = await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(200))), 90)
        assert all(c > 2 for c in counts)
        assert emu.ws_connections.opened_total == 200 and emu.ws_connections.open_now == 0
