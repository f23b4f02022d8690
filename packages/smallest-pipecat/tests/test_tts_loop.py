"""The I/O loop under the socket services: no timer per receive, deadlines that fire on a
silent socket without losing a frame, no permessage-deflate."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from pipecat.frames.frames import TTSSpeakFrame
from pipecat_pipeline import Harness
from tts_common import make_tts, synthesized
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from smallest_core.aio import SocketReader, WebsocketsTransport
from smallest_emulator import Emulator
from smallest_pipecat import SmallestLightningV4TTSService

LONG = (
    "A long answer gives the socket many audio frames to carry, one after another, "
    "while the server owes the turn the rest of its audio."
)
OURS = ("smallest_pipecat", "smallest_core")


async def _speak_counting_timers(emu: Emulator, tts: Any) -> tuple[bytes, int, int]:
    """Speak ``LONG``; the audio, its frames and the timers this project's code armed
    meanwhile (Pipecat's own timers are not counted)."""
    loop = asyncio.get_running_loop()
    count = 0
    call_at = loop.call_at

    def counting(when: float, callback: Any, *args: Any, **kwargs: Any) -> asyncio.TimerHandle:
        nonlocal count
        frame = sys._getframe(1)
        while frame is not None:
            if any(name in frame.f_code.co_filename for name in OURS):
                count += 1
                break
            frame = frame.f_back
        return call_at(when, callback, *args, **kwargs)

    loop.call_at = counting  # type: ignore[method-assign]
    try:
        async with Harness(tts) as h:
            await h.send(TTSSpeakFrame(LONG))
            await h.end()
    finally:
        del loop.call_at  # type: ignore[method-assign]
    assert not h.errors()
    audio = h.audio(h.context_ids()[-1])
    return audio, len(audio) // emu.config.chunk_bytes, count


async def test_streamed_audio_arms_no_timer_per_frame(default_emulator: Emulator) -> None:
    emu = default_emulator
    audio, frames, timers = await _speak_counting_timers(emu, make_tts(emu))
    assert audio == synthesized(emu, LONG) and frames >= 100
    # The response deadline runs for the whole turn: the old loop armed one per frame.
    assert timers < frames // 10


async def test_v4_streamed_audio_arms_no_timer_per_frame(default_emulator: Emulator) -> None:
    emu = default_emulator
    tts = SmallestLightningV4TTSService(api_key="sk_test", base_url=emu.base_url)
    audio, frames, timers = await _speak_counting_timers(emu, tts)
    (record,) = [r for r in emu.tts_log if r.transport == "v4" and r.text == LONG]
    assert audio == bytes(record.pcm) and frames >= 100
    assert timers < frames // 10  # the old loop armed one per frame while a turn spoke


async def test_a_socket_opened_on_demand_times_out_a_silent_server(
    default_emulator: Emulator,
) -> None:
    """The second socket is opened by the turn itself: its deadline is armed before the
    receive task first reads it."""
    emu = default_emulator
    emu.config.never_answer = True
    tts = make_tts(emu, response_timeout_s=0.5)
    async with Harness(tts) as h:
        for n in (1, 2):
            await h.send(TTSSpeakFrame(f"Turn {n} gets no answer."))
            await h.wait_for(lambda n=n: len(h.stops()) == n, within=5)
        await h.end()
    errors = h.errors()
    assert len(errors) == 2
    assert all("no answer from the server within 0.5 s" in e.error for e in errors)
    assert tts.connections_opened == 2


async def test_the_socket_offers_no_deflate(default_emulator: Emulator) -> None:
    tts = make_tts(default_emulator)
    async with Harness(tts) as h:
        await h.send(TTSSpeakFrame("Plain frames."))
        ws = tts._websocket
        assert ws is not None
        assert ws.response.headers.get("Sec-WebSocket-Extensions") is None
        await h.end()
    assert h.audio(h.context_ids()[-1]) == synthesized(default_emulator, "Plain frames.")


# ---------------------------------------------------------------------- the reader itself
@asynccontextmanager
async def _server(script: Callable[[ServerConnection], Any]) -> AsyncIterator[str]:
    async with serve(script, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}"


async def test_a_deadline_on_a_silent_socket_fires_and_loses_no_frame() -> None:
    go = asyncio.Event()

    async def script(ws: ServerConnection) -> None:
        await go.wait()
        await ws.send("after the deadline")
        await ws.close()

    frames: list[str | bytes] = []
    deadlines: list[float] = []

    async def on_frame(data: str | bytes, now: float) -> None:
        frames.append(data)

    async def on_deadline(now: float) -> float | None:
        deadlines.append(now)
        go.set()
        return None

    async with _server(script) as url, connect(url, compression=None) as ws:
        reader = SocketReader(WebsocketsTransport(ws), on_frame, on_deadline)
        task = asyncio.create_task(reader.run())
        await asyncio.sleep(0)
        reader.wake_by(time.monotonic())
        await asyncio.wait_for(task, 5)
    assert len(deadlines) == 1
    assert frames == ["after the deadline"]


async def test_deadlines_firing_amid_frames_drop_none_and_keep_their_order() -> None:
    sent = [f"frame {i}" for i in range(300)]

    async def script(ws: ServerConnection) -> None:
        for i, text in enumerate(sent):
            await ws.send(text)
            if i % 7 == 0:
                await asyncio.sleep(0.001)
        await ws.close()

    got: list[str | bytes] = []
    deadlines = 0
    reader: SocketReader | None = None

    async def on_frame(data: str | bytes, now: float) -> None:
        got.append(data)

    async def on_deadline(now: float) -> float | None:
        nonlocal deadlines
        deadlines += 1
        return now + 0.0005  # due again at once: the timer keeps cutting into receives

    async with _server(script) as url, connect(url, compression=None) as ws:
        reader = SocketReader(WebsocketsTransport(ws), on_frame, on_deadline)
        task = asyncio.create_task(reader.run())
        await asyncio.sleep(0)
        reader.wake_by(0.0)
        await asyncio.wait_for(task, 10)
    assert got == sent
    assert deadlines > 1


@pytest.mark.parametrize("armed", [False, True])
async def test_cancelling_the_reader_from_outside_is_not_swallowed(armed: bool) -> None:
    async def script(ws: ServerConnection) -> None:
        await ws.wait_closed()

    async def on_frame(data: str | bytes, now: float) -> None:
        raise AssertionError("no frame was sent")

    async def on_deadline(now: float) -> float | None:
        return now + 0.001

    async with _server(script) as url, connect(url, compression=None) as ws:
        reader = SocketReader(WebsocketsTransport(ws), on_frame, on_deadline)
        task = asyncio.create_task(reader.run())
        await asyncio.sleep(0)
        if armed:
            reader.wake_by(0.0)
        await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)
