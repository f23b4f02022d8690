"""Refused keys and silent servers: every turn ends with its own error and stop frame."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from pipecat.frames.frames import (
    Frame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    TTSStartedFrame,
)
from pipecat.services.tts_service import TextAggregationMode
from pipecat.utils.errors import ErrorCategory
from pipecat_pipeline import Harness
from tts_common import make_tts, synthesized

from smallest_emulator import Emulator

SENTENCES = ["Hello there, my friend. ", "This reply has three sentences. ", "It ends here."]
AFTER = "The next turn works fine."
TIMEOUT_S = 0.6


def llm_turn(*tokens: str) -> list[Frame]:
    return [
        LLMFullResponseStartFrame(),
        *[LLMTextFrame(t) for t in tokens],
        LLMFullResponseEndFrame(),
    ]


def stops_reach(h: Harness, count: int) -> Callable[[], bool]:
    return lambda: len(h.stops()) == count


def refused_upgrades(emu: Emulator) -> int:
    """TTS socket upgrades the server refused (logged before the client sees the answer)."""
    return sum(
        1
        for line in emu.requests
        if line.startswith("GET /waves/v1/tts/live ") and " 101 " not in line
    )


async def test_refused_key_ends_every_turn(emulator: Emulator, profile: str) -> None:
    tts = make_tts(emulator, key="sk_invalid_x")
    async with Harness(tts) as h:
        await h.wait_for(lambda: len(h.errors()) == 1)  # start() tried once
        assert refused_upgrades(emulator) == 1
        for n in (1, 2):
            await h.send(*llm_turn(*SENTENCES))
            await h.wait_for(stops_reach(h, n), within=5)
            assert len(h.errors()) == 1 + n  # one error per turn, not one per sentence
            assert refused_upgrades(emulator) == 1 + n  # one attempt per turn, never a loop
        assert not tts.is_usable  # Pipecat's verdict for a rejected key is kept
        await h.end()
    for error in h.errors():
        assert "Invalid API key" in error.error
        assert error.category == ErrorCategory.AUTHENTICATION
        assert "sk_invalid" not in error.error
    assert len(h.down.of(TTSStartedFrame)) == 2
    assert h.audio() == b"" and h.words() == []
    assert emulator.tts_log == []
    assert tts.connections_opened == 0


async def test_key_accepted_again_makes_the_service_usable(default_emulator: Emulator) -> None:
    emu = default_emulator
    emu.config.http_status = 401  # the server refuses every upgrade for now
    tts = make_tts(emu)
    async with Harness(tts) as h:
        await h.wait_for(lambda: len(h.errors()) == 1)
        await h.send(*llm_turn(*SENTENCES))
        await h.wait_for(lambda: len(h.stops()) == 1)
        assert len(h.errors()) == 2 and not tts.is_usable
        emu.config.http_status = None
        await h.send(*llm_turn(AFTER))
        await h.wait_for(lambda: len(h.stops()) == 2)
        assert tts.is_usable
        await h.end()
    assert len(h.errors()) == 2
    assert h.audio(h.context_ids()[-1]) == synthesized(emu, AFTER)


async def test_silent_server_times_out_then_recovers(emulator: Emulator, profile: str) -> None:
    emulator.config.never_answer = True
    tts = make_tts(emulator, response_timeout_s=TIMEOUT_S)
    async with Harness(tts) as h:
        sent = time.monotonic()
        await h.send(*llm_turn(*SENTENCES))
        await h.wait_for(lambda: len(h.stops()) == 1, within=5)
        took = time.monotonic() - sent
        assert len(h.errors()) == 1
        emulator.config.never_answer = False
        await h.send(*llm_turn(AFTER))
        await h.wait_for(lambda: len(h.stops()) == 2, within=10)
        await h.end()
    print(f"[{profile}] silent server reported after {took * 1000:.0f} ms")
    assert TIMEOUT_S <= took < TIMEOUT_S + 1.5
    (error,) = h.errors()
    assert f"no answer from the server within {TIMEOUT_S:g} s" in error.error
    assert error.category == ErrorCategory.CONNECTIVITY
    assert tts.is_usable
    assert tts.connections_opened == 2  # the silent socket is replaced
    assert emulator.ws_connections.per_route.get("tts") == 2
    (spoken,) = h.context_ids()
    assert h.audio(spoken) == synthesized(emulator, AFTER)
    assert not [w for w in h.words() if w.context_id != spoken]


async def test_timeout_waits_for_the_server_not_for_the_llm(default_emulator: Emulator) -> None:
    """Token aggregation leaves buffering to the server: a pause in the LLM is no timeout."""
    emu = default_emulator
    tts = make_tts(emu, response_timeout_s=0.3, text_aggregation_mode=TextAggregationMode.TOKEN)
    async with Harness(tts) as h:
        await h.send(LLMFullResponseStartFrame(), LLMTextFrame("Hello there"))
        # The LLM pauses longer than the timeout; the server may hold the unfinished
        # sentence meanwhile, so nothing is owed until the turn closes.
        await asyncio.sleep(0.8)
        await h.send(LLMTextFrame(", my friend."), LLMFullResponseEndFrame())
        await h.wait_for(lambda: len(h.stops()) == 1)
        await h.end()
    assert h.errors() == []
    assert h.audio() == synthesized(emu, "Hello there, my friend.")


async def test_timeout_is_the_only_verdict_on_a_silent_server(default_emulator: Emulator) -> None:
    """Pipecat's quiet-context timer would end the turn first; the response timeout decides."""
    emu = default_emulator
    emu.config.never_answer = True
    tts = make_tts(emu, response_timeout_s=1.0, stop_frame_timeout_s=0.3)
    async with Harness(tts) as h:
        await h.send(*llm_turn(*SENTENCES))
        await h.wait_for(lambda: len(h.stops()) == 1, within=5)
        await h.end()
    (error,) = h.errors()  # no "completed with no audio" error before ours
    assert "no answer from the server within 1 s" in error.error
    assert len(h.stops()) == 1 and len(h.down.of(TTSStartedFrame)) == 1


async def test_slow_first_audio_within_the_timeout(default_emulator: Emulator) -> None:
    emu = default_emulator
    emu.config.ttfb_ms = 700
    tts = make_tts(emu, response_timeout_s=3.0, stop_frame_timeout_s=0.3)
    async with Harness(tts) as h:
        await h.send(*llm_turn(AFTER))
        await h.wait_for(lambda: len(h.stops()) == 1)
        await h.end()
    assert h.errors() == []
    assert len(h.stops()) == 1 and len(h.down.of(TTSStartedFrame)) == 1
    assert h.audio() == synthesized(emu, AFTER)


def test_response_timeout_must_be_positive(default_emulator: Emulator) -> None:
    import pytest

    with pytest.raises(ValueError, match="response_timeout_s"):
        make_tts(default_emulator, response_timeout_s=0)
