"""Request checks run once, in the middleware, after auth and the connect-time faults."""

from __future__ import annotations

import aiohttp
import pytest
from emulator_kit import AUTH

from smallest_emulator import Emulator


async def _status(http: aiohttp.ClientSession, method: str, url: str, **kw: object) -> int:
    async with http.request(method, url, **kw) as r:  # type: ignore[arg-type]
        await r.read()
        return r.status


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/waves/v1/tts"),
        ("POST", "/waves/v1/lightning-v2/get_speech"),
        ("POST", "/waves/v1/lightning-v3.2/get_speech"),
        ("GET", "/waves/v1/lightning-v2/get_speech/stream"),
        ("GET", "/waves/v1/stt/live"),
        ("POST", "/waves/v1/stt"),
        ("GET", "/waves/v1/lightning-v4/live?speed=9"),
    ],
)
async def test_auth_and_faults_come_before_validation(
    emu: Emulator, http: aiohttp.ClientSession, method: str, path: str
) -> None:
    url = emu.base_url + path
    assert await _status(http, method, url, data=b"not json") == 401
    forced = {"Authorization": "Bearer sk_test;http_status=503"}
    assert await _status(http, method, url, data=b"not json", headers=forced) == 503
    assert await _status(http, method, url, data=b"not json", headers=AUTH) in (400, 410)


async def test_checks_run_in_route_order(emu: Emulator, http: aiohttp.ClientSession) -> None:
    base = emu.base_url + "/waves/v1"
    # model first (410 / 404), then the body (400)
    assert await _status(http, "POST", base + "/lightning-v2/get_speech", headers=AUTH) == 410
    assert await _status(http, "POST", base + "/nope/get_speech", headers=AUTH) == 404
    assert await _status(http, "POST", base + "/lightning-v3.1/get_speech", headers=AUTH) == 400
    # model first, then the socket's idle timeout
    url = base + "/lightning-v2/get_speech/stream?timeout=0"
    assert await _status(http, "GET", url, headers=AUTH) == 410
    url = base + "/tts/live?timeout=0"
    async with http.get(url, headers=AUTH) as r:
        assert r.status == 400
        assert await r.json() == {
            "error": "InvalidRequest",
            "message": "timeout must be a positive integer",
        }
    assert emu.ws_connections.opened_total == 0
