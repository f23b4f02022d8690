"""Shared fixtures and helpers for the emulator tests."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from smallest_emulator import Emulator, EmulatorConfig

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures"
AUTH = {"Authorization": "Bearer sk_test"}
VOICE = {"voice_id": "magnus", "model": "lightning_v3.1", "sample_rate": 16000, "speed": 1.0}


def fixture_frames(name: str) -> list[dict[str, Any]]:
    """Frames of one shared fixture file."""
    return json.loads((FIXTURES / name).read_text())["frames"]


def fast_config(**kw: Any) -> EmulatorConfig:
    """Unpaced, no complete backoff: fast tests of the server's mechanics.

    They run under the ``context-echo`` reading (ids echoed, one ``complete`` per
    context) with word timestamps for every voice, which lets one ``complete`` end a
    collection; the documented default reading has its own tests
    (``test_tts_documented.py`` applies ``profile="default"``)."""
    base: dict[str, Any] = {
        "speed": 0.0,
        "complete_backoff_ms": 0,
        "max_buffer_delay_ms": 0,
        "word_timestamp_voices": "all",
    }
    base.update(kw)
    return dataclasses.replace(EmulatorConfig().apply_profile("context-echo"), **base)


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(config=fast_config()) as e:
        yield e


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as s:
        yield s


def msg(text: str, **kw: Any) -> dict[str, Any]:
    """A TTS WS message with the default voice config."""
    m = dict(VOICE)
    m["text"] = text
    m.update(kw)
    return m


async def recv_json(ws: aiohttp.ClientWebSocketResponse, wait_s: float = 5.0) -> dict[str, Any]:
    """Receive one text frame as JSON."""
    m = await ws.receive(timeout=wait_s)
    assert m.type == aiohttp.WSMsgType.TEXT, m
    return json.loads(m.data)


async def collect_until_complete(
    ws: aiohttp.ClientWebSocketResponse, completes: int = 1, wait_s: float = 10.0
) -> list[dict[str, Any]]:
    """Frames until ``completes`` complete frames were received."""
    out: list[dict[str, Any]] = []
    seen = 0
    async with asyncio.timeout(wait_s):
        while seen < completes:
            f = await recv_json(ws, wait_s)
            out.append(f)
            if f.get("status") == "complete":
                seen += 1
            assert f.get("status") != "error", f
    return out


def audio_of(frames: list[dict[str, Any]]) -> bytes:
    """Concatenated decoded audio of chunk frames."""
    return b"".join(base64.b64decode(f["data"]["audio"]) for f in frames if f["status"] == "chunk")


@contextlib.asynccontextmanager
async def cli(*args: str) -> AsyncIterator[tuple[asyncio.StreamReader, str]]:
    """``python -m smallest_emulator --port 0 --speed 0 *args``: its stdout and base URL."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "smallest_emulator",
        "--port",
        "0",
        "--speed",
        "0",
        *args,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        first = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode().strip()
        yield proc.stdout, first
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)
