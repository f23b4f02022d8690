"""Runtime settings: applied to the next context on the same socket; bad values refused."""

from __future__ import annotations

import pytest
from pipecat.frames.frames import TTSSpeakFrame, TTSUpdateSettingsFrame
from pipecat.transcriptions.language import Language
from pipecat_pipeline import Harness
from tts_common import make_tts

from smallest_emulator import Emulator
from smallest_emulator.engines import deterministic
from smallest_pipecat import SmallestTTSService


async def test_settings_update_without_reconnect(emulator: Emulator, profile: str) -> None:
    tts = make_tts(emulator)
    async with Harness(tts) as h:
        await h.send(TTSSpeakFrame("Before the change."))
        await h.wait_for(lambda: len(h.stops()) == 1)
        delta = SmallestTTSService.Settings(voice="avery", speed=1.5, language=Language.HI)
        await h.send(TTSUpdateSettingsFrame(delta=delta))
        await h.send(TTSSpeakFrame("After the change."))
        await h.end()
    first, second = [r for r in emulator.tts_log if r.transport == "ws" and r.text.strip()][-2:]
    assert (first.voice_id, second.voice_id) == ("liam", "avery")
    expected = deterministic.synthesize("After the change. ", 24000, 1.5, voice_id="avery")
    assert h.audio(h.context_ids()[-1]) == expected.pcm
    assert not h.errors()
    sockets = 2 if profile == "close-after-complete" else 1
    assert emulator.ws_connections.opened_total == sockets


async def test_unsupported_language_update_is_refused(default_emulator: Emulator) -> None:
    tts = make_tts(default_emulator)
    async with Harness(tts) as h:
        delta = SmallestTTSService.Settings(language=Language.SW)
        await h.send(TTSUpdateSettingsFrame(delta=delta))
        await h.wait_for(lambda: bool(h.errors()))
        await h.send(TTSSpeakFrame("Still speaking English."))
        await h.end()
    (error,) = h.errors()
    assert "allowed" in error.error
    assert tts.is_usable
    assert h.audio()


def test_bad_construction_values_raise() -> None:
    with pytest.raises(ValueError, match="allowed"):
        SmallestTTSService(
            api_key="k",
            base_url="http://127.0.0.1:9",
            settings=SmallestTTSService.Settings(language=Language.SW),
        )
    with pytest.raises(ValueError, match="speed"):
        SmallestTTSService(
            api_key="k",
            base_url="http://127.0.0.1:9",
            settings=SmallestTTSService.Settings(speed=9.0),
        )
    pro = SmallestTTSService(
        api_key="k",
        base_url="http://127.0.0.1:9",
        settings=SmallestTTSService.Settings(
            model="lightning_v3.1_pro", voice="meher", language=Language.JA
        ),
    )
    assert pro._settings.language == "ja"
    assert "sk_" not in repr(pro.__dict__.get("_api_key"))
