"""Lightning v4 live sessions in a pipeline: byte-exact turns on one socket, barge-in
without a reconnect, the server's own errors, the caller's turn as ``user_audio``."""

from __future__ import annotations

import pytest
from aiohttp import web
from pipecat.frames.frames import (
    InputAudioRawFrame,
    InterruptionFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
    TTSSpeakFrame,
    TTSStartedFrame,
    TTSUpdateSettingsFrame,
    UserStartedSpeakingFrame,
    UserStoppedSpeakingFrame,
)
from pipecat.utils.errors import ErrorCategory
from pipecat_hostile import Tiny
from pipecat_pipeline import Harness

from smallest_emulator import Emulator
from smallest_emulator.engines import deterministic
from smallest_pipecat import SmallestLightningV4TTSService
from smallest_pipecat.settings_v4 import initial_v4_settings, v4_options

TEXTS = ["Hello from the fourth generation.", "A second turn on the same socket."]
Settings = SmallestLightningV4TTSService.Settings
LONG = " ".join(f"Sentence number {i} keeps the voice busy for a while." for i in range(12))
AFTER = "Sure, go ahead."


def make_v4(emu: Emulator, key: str = "sk_test", **kwargs: object) -> SmallestLightningV4TTSService:
    return SmallestLightningV4TTSService(api_key=key, base_url=emu.base_url, **kwargs)  # type: ignore[arg-type]


def spoken(emu: Emulator, text: str) -> bytes:
    """The PCM the emulator streamed for the v4 turn that spoke ``text``."""
    (record,) = [r for r in emu.tts_log if r.transport == "v4" and r.text == text]
    return bytes(record.pcm)


def v4_sockets(emu: Emulator) -> int:
    return emu.ws_connections.per_route.get("lightning-v4", 0)


async def test_turns_are_byte_exact_on_one_socket(default_emulator: Emulator) -> None:
    emu = default_emulator
    tts = make_v4(emu)
    async with Harness(tts) as h:
        for text in TEXTS:
            await h.send(TTSSpeakFrame(text))
        await h.end()
    ids = h.context_ids()
    assert len(ids) == 2 and len(h.stops()) == 2
    assert not h.errors()
    assert [h.audio(i) for i in ids] == [spoken(emu, t) for t in TEXTS]
    assert (
        spoken(emu, TEXTS[0])
        == deterministic.synthesize(TEXTS[0], 24000, 1.0, voice_id="brannock").pcm
    )
    assert tts.connections_opened == 1 and v4_sockets(emu) == 1


async def test_llm_turn_is_one_context_of_several_v4_turns(default_emulator: Emulator) -> None:
    emu = default_emulator
    sentences = ["Hello there, friend. ", "This is the second sentence. ", "And a third!"]
    async with Harness(make_v4(emu)) as h:
        await h.send(LLMFullResponseStartFrame())
        for s in sentences:
            await h.send(LLMTextFrame(s))
        await h.send(LLMFullResponseEndFrame())
        await h.end()
    (context_id,) = h.context_ids()
    assert len(h.down.of(TTSStartedFrame)) == 1 and len(h.stops()) == 1
    records = [r for r in emu.tts_log if r.transport == "v4"]
    assert [r.text.strip() for r in records] == [s.strip() for s in sentences]
    assert h.audio(context_id) == b"".join(bytes(r.pcm) for r in records)


async def test_a_rate_v4_does_not_make_is_resampled(default_emulator: Emulator) -> None:
    async with Harness(make_v4(default_emulator), out_rate=22050) as h:
        await h.send(TTSSpeakFrame(TEXTS[0]))
        await h.end()
    (record,) = default_emulator.tts_log
    assert record.sample_rate == 24000
    frames = h.down.of(TTSAudioRawFrame)
    assert frames and {f.sample_rate for f in frames} == {22050}
    expected = len(record.pcm) // 2 * 22050 / 24000
    assert abs(len(h.audio()) // 2 - expected) < 64


async def test_barge_in_interrupts_on_the_same_socket(default_emulator: Emulator) -> None:
    emu = default_emulator
    emu.config.speed = 5.0  # paced: the first turn is still streaming when cut
    tts = make_v4(emu)
    async with Harness(tts) as h:
        await h.send(TTSSpeakFrame(LONG))
        await h.wait_for(lambda: len(h.audio()) > 9600)
        (interrupted,) = h.context_ids()
        await h.send(InterruptionFrame())
        await h.wait_for(lambda: bool(h.down.of(InterruptionFrame)))
        cut = len(h.down.seen)
        await h.send(TTSSpeakFrame(AFTER))
        await h.end()
    after = h.down.frames_since(cut)
    stale = [f for f in after if isinstance(f, TTSAudioRawFrame) and f.context_id == interrupted]
    assert not stale
    (fresh,) = [i for i in h.context_ids() if i != interrupted]
    assert h.audio(fresh) == spoken(emu, AFTER)
    assert [r.cancelled for r in emu.tts_log] == [True, False]
    assert tts.connections_opened == 1 and v4_sockets(emu) == 1
    assert not h.errors()


async def test_an_unknown_voice_is_the_servers_error(default_emulator: Emulator) -> None:
    tts = make_v4(default_emulator, settings=SmallestLightningV4TTSService.Settings(voice="nobody"))
    async with Harness(tts) as h:
        await h.wait_for(lambda: bool(h.errors()))
        await h.send(TTSSpeakFrame(TEXTS[0]))
        await h.wait_for(lambda: len(h.stops()) == 1)
        await h.send(
            TTSUpdateSettingsFrame(delta=SmallestLightningV4TTSService.Settings(voice="rhodes"))
        )
        await h.send(TTSSpeakFrame(TEXTS[1]))
        await h.end()
    errors = h.errors()
    assert errors and all("unknown Lightning v4 voice 'nobody'" in e.error for e in errors)
    assert h.audio(h.context_ids()[-1]) == spoken(default_emulator, TEXTS[1])


async def test_model_access_denied_says_so(default_emulator: Emulator) -> None:
    tts = make_v4(default_emulator, key="sk_test;v4_access=false")
    async with Harness(tts) as h:
        await h.wait_for(lambda: bool(h.errors()))
        await h.end()
    (error,) = h.errors()
    assert "model_access_denied" in error.error and "enabled per account" in error.error
    assert error.category == ErrorCategory.AUTHENTICATION
    assert not h.audio()


async def test_the_callers_turn_goes_out_as_user_audio(default_emulator: Emulator) -> None:
    emu = default_emulator
    words = "what is the weather like"
    pcm = deterministic.synthesize(words, 16000).pcm
    step = 640
    audio = [InputAudioRawFrame(pcm[i : i + step], 16000, 1) for i in range(0, len(pcm), step)]
    async with Harness(make_v4(emu)) as h:
        await h.send(UserStartedSpeakingFrame(), *audio, UserStoppedSpeakingFrame())
        await h.send(TranscriptionFrame(words, "user", "now"))
        await h.send(TTSSpeakFrame(AFTER))
        await h.end()
    assert h.audio() == spoken(emu, AFTER)
    assert any("v4 turns=1 context=1" in line for line in emu.requests)
    assert not h.errors()


def test_both_content_filter_spellings_reach_the_query() -> None:
    official = Settings(content_filter=True, content_filter_action="flag")
    for settings, action in ((official, "flag"), (Settings(content_filter="reject"), "reject")):
        query = v4_options(initial_v4_settings(settings), 24000).query()
        assert (query["content_filter"], query["content_filter_action"]) == ("true", action)
    assert "content_filter" not in v4_options(initial_v4_settings(None), 24000).query()


def test_constructor_checks() -> None:
    with pytest.raises(ValueError, match="en, auto"):
        SmallestLightningV4TTSService(
            api_key="k", settings=SmallestLightningV4TTSService.Settings(language="de")
        )
    with pytest.raises(ValueError, match="speed"):
        SmallestLightningV4TTSService(
            api_key="k", settings=SmallestLightningV4TTSService.Settings(speed=3.0)
        )
    with pytest.raises(TypeError, match="voice_id"):
        SmallestLightningV4TTSService(api_key="k", voice_id="brannock")  # type: ignore[call-arg]


async def test_a_silent_server_fails_the_turn_and_the_next_one_plays(
    default_emulator: Emulator,
) -> None:
    emu = default_emulator
    emu.config.ttfb_ms = 3000  # the server starts the turn and then says nothing
    tts = make_v4(emu, response_timeout_s=0.5)
    async with Harness(tts) as h:
        await h.send(TTSSpeakFrame(TEXTS[0]))
        await h.wait_for(lambda: len(h.stops()) == 1)
        emu.config.ttfb_ms = 0
        await h.send(TTSSpeakFrame(TEXTS[1]))
        await h.end()
    (error,) = h.errors()
    assert "no answer from the server within 0.5 s" in error.error
    assert error.category == ErrorCategory.CONNECTIVITY
    assert h.audio(h.context_ids()[-1]) == spoken(emu, TEXTS[1])
    assert tts.connections_opened == 2 and tts.is_usable


async def test_a_server_that_never_starts_the_turn_times_out() -> None:
    async def ready_then_silent(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"event": "ready", "session_id": "s1"})
        await ws.send_json({"event": "ready", "sample_rate": 24000})
        async for _msg in ws:
            pass  # never answers a speak
        return ws

    async with Tiny(ready_then_silent) as api:
        tts = SmallestLightningV4TTSService(
            api_key="sk_test", base_url=api.url, response_timeout_s=0.3
        )
        async with Harness(tts) as h:
            await h.send(TTSSpeakFrame(TEXTS[0]))
            await h.wait_for(lambda: len(h.stops()) == 1, within=5)
            await h.end()
    (error,) = h.errors()
    assert "no answer from the server within 0.3 s" in error.error


async def test_barge_in_retires_the_queued_sentences_too(default_emulator: Emulator) -> None:
    emu = default_emulator
    emu.config.speed = 5.0
    sentences = [f"Sentence number {i} of a long answer that keeps going. " for i in range(4)]
    async with Harness(make_v4(emu)) as h:
        await h.send(LLMFullResponseStartFrame(), *[LLMTextFrame(s) for s in sentences])
        await h.wait_for(lambda: len(h.audio()) > 9600)
        (interrupted,) = h.context_ids()
        await h.send(InterruptionFrame())
        await h.wait_for(lambda: bool(h.down.of(InterruptionFrame)))
        cut = len(h.down.seen)
        await h.send(LLMFullResponseEndFrame(), TTSSpeakFrame(AFTER))
        await h.end()
    stale = [
        f
        for f in h.down.frames_since(cut)
        if isinstance(f, TTSAudioRawFrame) and f.context_id == interrupted
    ]
    assert not stale
    assert h.audio(h.context_ids()[-1]) == spoken(emu, AFTER)
    cut_turns = [r for r in emu.tts_log if r.text != AFTER]
    assert cut_turns and all(r.cancelled for r in cut_turns)
    assert v4_sockets(emu) == 1 and not h.errors()
