"""Lightning v3.2 over HTTP: its own route, per-utterance affect changed by settings frames."""

from __future__ import annotations

import pytest
from pipecat.frames.frames import TTSSpeakFrame, TTSUpdateSettingsFrame
from pipecat_pipeline import Harness

from smallest_emulator import Emulator
from smallest_pipecat import SmallestHttpTTSService, SmallestTTSService

Settings = SmallestHttpTTSService.Settings
VOICE = "v32voice"
CALM = "Everything is fine, take your time."
CHEER = "We did it, that is wonderful news!"


def make_v32(emu: Emulator, **settings: object) -> SmallestHttpTTSService:
    return SmallestHttpTTSService(
        api_key="sk_test",
        base_url=emu.base_url,
        settings=Settings(model="lightning-v3.2", voice=VOICE, language="en", **settings),  # type: ignore[arg-type]
    )


async def test_affect_changes_per_utterance_without_a_new_service(
    default_emulator: Emulator,
) -> None:
    emu = default_emulator
    tts = make_v32(emu, emotion="sad", prosody="monotone", instruction="speak slowly")
    async with Harness(tts) as h:
        await h.send(TTSSpeakFrame(CALM))
        await h.wait_for(lambda: len(h.stops()) == 1)
        delta = Settings(emotion="happy", prosody="expressive", instruction=None, volume="low")
        await h.send(TTSUpdateSettingsFrame(delta=delta), TTSSpeakFrame(CHEER))
        await h.end()
    assert not h.errors()
    first, second = emu.tts_log
    assert first.affect == {"emotion": "sad", "prosody": "monotone", "instruction": "speak slowly"}
    assert second.affect == {"emotion": "happy", "prosody": "expressive", "volume": "low"}
    ids = h.context_ids()
    assert [h.audio(i) for i in ids] == [bytes(first.pcm), bytes(second.pcm)]
    assert any("/waves/v1/lightning-v3.2/get_speech 200" in line for line in emu.requests)


async def test_a_bad_affect_update_is_refused_and_the_old_one_stays(
    default_emulator: Emulator,
) -> None:
    tts = make_v32(default_emulator, emotion="sad")
    async with Harness(tts) as h:
        await h.send(TTSUpdateSettingsFrame(delta=Settings(emotion="ecstatic")))
        await h.send(TTSSpeakFrame(CALM))
        await h.end()
    (error,) = h.errors()
    assert "settings rejected" in error.error and "neutral, sad, happy, angry" in error.error
    (record,) = default_emulator.tts_log
    assert record.text.strip() == CALM and record.affect == {"emotion": "sad"}
    assert h.audio() == bytes(record.pcm)


def test_v32_needs_its_own_voice_and_http() -> None:
    with pytest.raises(ValueError, match="has its own voices"):
        SmallestHttpTTSService(api_key="k", settings=Settings(model="lightning-v3.2"))
    with pytest.raises(ValueError, match=r"needs model='lightning_v3\.2'"):
        SmallestHttpTTSService(api_key="k", settings=Settings(emotion="happy"))
    with pytest.raises(ValueError, match="no streaming route"):
        SmallestTTSService(
            api_key="k", settings=SmallestTTSService.Settings(model="lightning-v3.2", voice=VOICE)
        )
