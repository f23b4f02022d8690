"""Lightning v4: byte-exact turns, one session reused, barge-in without reconnecting,
the caller's turns as context, and the server's refusals as LiveKit errors."""

from __future__ import annotations

import pytest
from livekit import rtc
from livekit.agents import APIConnectOptions, APIError, APIStatusError, utils
from livekit_kit import collect, fast_config, frames_pcm, key, speak, until

from smallest_emulator import Emulator
from smallest_emulator.engines.deterministic import releases_pcm
from smallest_livekit import LightningV4TTS

TOKENS = ["Hello", " there.", " How", " are", " you", " today?", " Fine."]
NO_RETRY = APIConnectOptions(max_retry=0, timeout=5.0)
LONG = " ".join(["This sentence is long enough to take a while to play out loud."] * 6)


def v4_pcm(emu: Emulator, records: list[int]) -> bytes:
    """What the emulator made for those v4 turns, recomputed from the words given."""
    out = b""
    for index in records:
        rec = emu.tts_log[index]
        assert rec.transport == "v4"
        pcm = releases_pcm(rec.releases, rec.sample_rate, voice_id=rec.voice_id)
        assert pcm == bytes(rec.pcm)
        out += pcm
    return out


async def test_streamed_sentences_are_byte_exact(emu: Emulator) -> None:
    engine = LightningV4TTS(api_key=key(), base_url=emu.base_url, sample_rate=24000)
    try:
        events = await speak(engine, TOKENS)
    finally:
        await engine.aclose()
    turns = [r for r in emu.tts_log if r.transport == "v4"]
    assert "".join(r.text for r in turns) == "".join(TOKENS)  # every character given
    assert len(turns) == 3  # one turn per sentence, sent as each sentence ended
    assert frames_pcm(events) == v4_pcm(emu, list(range(len(emu.tts_log))))
    assert {ev.segment_id for ev in events} == {events[0].segment_id}
    assert events[-1].is_final and events[0].frame.sample_rate == 24000


async def test_turns_share_one_session(emu: Emulator) -> None:
    engine = LightningV4TTS(api_key=key(), base_url=emu.base_url)
    try:
        for n in range(5):
            before = len(emu.tts_log)
            events = await speak(engine, [f"Reply number {n}."])
            assert frames_pcm(events) == v4_pcm(emu, [before])
    finally:
        await engine.aclose()
    assert engine.sessions_opened == 1
    assert emu.ws_connections.per_route.get("lightning-v4") == 1


async def test_synthesize_goes_through_the_session(emu: Emulator) -> None:
    engine = LightningV4TTS(api_key=key(), base_url=emu.base_url)
    try:
        events = await collect(engine.synthesize("One shot."))
    finally:
        await engine.aclose()
    assert frames_pcm(events) == v4_pcm(emu, [0])


async def test_barge_in_interrupts_and_the_next_turn_gets_no_stale_audio() -> None:
    paced = fast_config(speed=1.0, chunk_bytes=960, cancel_inflight_chunks=2)
    async with Emulator(config=paced) as emu, utils.http_context.open():
        engine = LightningV4TTS(api_key=key(), base_url=emu.base_url, sample_rate=24000)
        try:
            stream = engine.stream(conn_options=NO_RETRY)
            stream.push_text(LONG)
            stream.end_input()
            async for _ev in stream:
                break  # audio is playing: the user barges in
            await stream.aclose()
            interrupted = emu.tts_log[-1]
            events = await speak(engine, ["Sorry, go ahead."])
            answer = emu.tts_log[-1]
        finally:
            await engine.aclose()
    assert interrupted.cancelled and not interrupted.done
    assert len(interrupted.pcm) < len(releases_pcm([LONG], 24000, voice_id="brannock"))
    assert answer.text == "Sorry, go ahead." and answer.done
    assert frames_pcm(events) == bytes(answer.pcm)  # none of the interrupted turn's audio
    assert engine.sessions_opened == 1  # the barge-in kept the session


async def test_user_turns_reach_the_session_before_the_reply(emu: Emulator) -> None:
    engine = LightningV4TTS(api_key=key(), base_url=emu.base_url)
    pcm = b"\x10\x00" * 1600
    frame = rtc.AudioFrame(data=pcm, sample_rate=16000, num_channels=1, samples_per_channel=1600)
    try:
        engine.add_user_turn("What time is it?", frame)
        events = await speak(engine, ["It is noon."])
    finally:
        await engine.aclose()
    assert frames_pcm(events) == v4_pcm(emu, [0])
    await until(lambda: any("context=1" in line for line in emu.requests), "the session log")
    with pytest.raises(ValueError, match="transcript and its audio"):
        engine.add_user_turn(" ", frame)


async def test_model_access_denied_is_a_clear_final_error(emu: Emulator) -> None:
    engine = LightningV4TTS(api_key=key(v4_access="false"), base_url=emu.base_url)
    errors: list[object] = []
    engine.on("error", errors.append)
    try:
        with pytest.raises(APIError) as info:
            await speak(engine, ["Hello."])
    finally:
        await engine.aclose()
    err = info.value
    assert isinstance(err, APIStatusError) and not err.retryable
    assert "model_access_denied" in err.message and "access" in err.message
    assert "this account has no Lightning v4 access" in err.message  # the server's words
    assert emu.ws_connections.per_route.get("lightning-v4") == 1  # not retried


async def test_unknown_voice_carries_the_servers_message(emu: Emulator) -> None:
    engine = LightningV4TTS(api_key=key(), base_url=emu.base_url, voice_id="nobody")
    try:
        async with engine.stream(conn_options=NO_RETRY) as stream:
            stream.push_text("Hello.")
            stream.end_input()
            with pytest.raises(APIError, match="unknown Lightning v4 voice 'nobody'"):
                await collect(stream)
    finally:
        await engine.aclose()


async def test_options_are_validated_and_a_change_opens_a_new_session(emu: Emulator) -> None:
    with pytest.raises(ValueError, match="8000, 16000, 24000, 44100, 48000"):
        LightningV4TTS(api_key=key(), base_url=emu.base_url, sample_rate=22050)
    with pytest.raises(ValueError, match="en, auto"):
        LightningV4TTS(api_key=key(), base_url=emu.base_url, language="de")
    engine = LightningV4TTS(api_key=key(), base_url=emu.base_url)
    try:
        await speak(engine, ["First."])
        engine.update_options(voice_id="rhodes", speed=1.5)
        await speak(engine, ["Second."])
    finally:
        await engine.aclose()
    assert [r.voice_id for r in emu.tts_log] == ["brannock", "rhodes"]
    assert engine.sessions_opened == 2
