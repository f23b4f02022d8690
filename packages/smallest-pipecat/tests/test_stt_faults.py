"""Pulse faults: a refused key and a silent server surface as errors, in bounded time."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import quote

import pytest
from pipecat.frames.frames import (
    TranscriptionFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.utils.errors import ErrorCategory
from pipecat_pipeline import Harness
from pipecat_stt_kit import FIRST, RATE, audio_frames, speech

from smallest_emulator import Emulator
from smallest_pipecat import SmallestSTTService


def make_stt(
    emu: Emulator, key: str, *, finalize_timeout_s: float = 5.0, close_timeout_s: float = 5.0
) -> SmallestSTTService:
    return SmallestSTTService(
        api_key=key,
        base_url=emu.base_url,
        finalize_timeout_s=finalize_timeout_s,
        close_timeout_s=close_timeout_s,
    )


async def test_refused_key(emulator: Emulator, profile: str) -> None:
    stt = make_stt(emulator, "sk_invalid_x")
    async with Harness(stt, in_rate=RATE) as h:
        await h.wait_for(lambda: bool(h.errors()))
        await h.send(*audio_frames(speech(FIRST)))
        started = time.monotonic()
        await h.end(within=5)
    assert time.monotonic() - started < 2  # nothing to wait for at the end
    (error,) = h.errors()
    assert "unauthorized" in error.error.lower() and "sk_invalid" not in error.error
    assert error.category == ErrorCategory.AUTHENTICATION
    assert emulator.stt_log == [] and stt.connections_opened == 0


async def test_silent_server_finalize_and_close(emulator: Emulator, profile: str) -> None:
    stt = make_stt(
        emulator,
        f"sk_test;never_answer=true;transcript={quote(FIRST)}",
        finalize_timeout_s=0.4,
        close_timeout_s=0.4,
    )
    async with Harness(stt, in_rate=RATE) as h:
        await h.send(VADUserStartedSpeakingFrame(), *audio_frames(speech(FIRST)))
        sent = time.monotonic()
        await h.send(VADUserStoppedSpeakingFrame())
        await h.wait_for(lambda: bool(h.errors()), within=3)
        reported = time.monotonic() - sent
        ending = time.monotonic()
        await h.end(within=5)
        ended = time.monotonic() - ending
    print(f"[{profile}] finalize timeout reported after {reported * 1000:.0f} ms")
    assert 0.4 <= reported < 1.5
    assert ended < 1.5  # close_stream's wait is bounded by close_timeout_s
    finalize, close = h.errors()
    assert "no final transcript within 0.4 s of finalize" in finalize.error
    assert "no last transcript within 0.4 s of close_stream" in close.error
    assert finalize.category == close.category == ErrorCategory.CONNECTIVITY
    assert h.down.of(TranscriptionFrame) == []


async def test_answered_finalize_reports_nothing(default_emulator: Emulator) -> None:
    stt = make_stt(default_emulator, f"sk_test;transcript={quote(FIRST)}", finalize_timeout_s=0.3)
    async with Harness(stt, in_rate=RATE) as h:
        await h.send(VADUserStartedSpeakingFrame(), *audio_frames(speech(FIRST)))
        await h.send(VADUserStoppedSpeakingFrame())
        await h.wait_for(lambda: bool(h.down.of(TranscriptionFrame)))
        await h.end()
    assert h.errors() == []
    assert [f.text for f in h.down.of(TranscriptionFrame)] == [FIRST]


@pytest.mark.parametrize("name", ["close_timeout_s", "finalize_timeout_s"])
def test_timeouts_must_be_positive(default_emulator: Emulator, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        make_stt(default_emulator, "sk_test", **{name: 0.0})


async def test_a_quiet_socket_gets_the_protocols_keepalive(default_emulator: Emulator) -> None:
    """The core's keepalive message (never fake audio) once nothing went out for a while."""
    stt = SmallestSTTService(
        api_key="sk_test", base_url=default_emulator.base_url, keepalive_interval_s=0.1
    )
    async with Harness(stt, in_rate=RATE) as h:
        await asyncio.sleep(1.0)  # ten keepalive intervals without any audio
        await h.end()
    (record,) = default_emulator.stt_log
    assert record.audio_bytes == 0
    assert {"type": "keepalive"} in record.control_messages
    assert h.errors() == []
