"""pipecat-ai 1.14's own ``pipecat.services.smallest`` services, unmodified, on the emulator.

Pointed at it with the documented ``base_url`` (``ws://HOST:PORT``); driven by Pipecat's own
``pipecat.tests.utils.run_test``. Every TTS turn takes ~3 s: the service never closes an
audio context on ``complete`` and waits out its stop timeout (a known plugin defect).
"""

from __future__ import annotations

import pytest
from pipecat.frames.frames import (
    ErrorFrame,
    Frame,
    InputAudioRawFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
    TTSSpeakFrame,
    TTSTextFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.services.smallest.stt import SmallestSTTService
from pipecat.services.smallest.tts import SmallestTTSService
from pipecat.tests.utils import SleepFrame, run_test
from pipecat.transcriptions.language import Language
from vendor_kit import BAD_KEY, KEY, RATE, STT_RATE, TEXT, VOICE, silence, speech

from smallest_emulator import Emulator

SAID = "book a table for two"


def _tts(server: Emulator, key: str = KEY, voice: str = VOICE) -> SmallestTTSService:
    return SmallestTTSService(
        api_key=key,
        base_url=server.ws_url,
        sample_rate=RATE,
        settings=SmallestTTSService.Settings(
            voice=voice, model="lightning_v3.1", language=Language.EN
        ),
    )


async def test_tts_audio_and_words(emu: Emulator) -> None:
    """``SmallestTTSService``: the context's audio and its words, in order."""
    down, _ = await run_test(_tts(emu), frames_to_send=[TTSSpeakFrame(TEXT)])
    (rec,) = emu.tts_log
    assert rec.text.split() == TEXT.split()
    audio = [f for f in down if isinstance(f, TTSAudioRawFrame)]
    assert b"".join(f.audio for f in audio) == bytes(rec.pcm)
    assert all(f.sample_rate == RATE and f.num_channels == 1 for f in audio)
    assert [f.text for f in down if isinstance(f, TTSTextFrame)] == TEXT.split()


async def test_tts_two_turns_one_socket(emu: Emulator) -> None:
    """Two utterances: each context's audio in full, on one socket."""
    first, second = "First request here.", "And a second one."
    down, _ = await run_test(
        _tts(emu), frames_to_send=[TTSSpeakFrame(first), TTSSpeakFrame(second)]
    )
    assert [r.text for r in emu.tts_log] == [first, second]
    audio = b"".join(f.audio for f in down if isinstance(f, TTSAudioRawFrame))
    assert audio == b"".join(bytes(r.pcm) for r in emu.tts_log)
    assert emu.ws_connections.opened_total == 1


async def test_tts_bad_voice_is_an_error_frame(emu: Emulator) -> None:
    """An unknown voice: an upstream ``ErrorFrame`` with the server's message, no audio."""
    down, up = await run_test(
        _tts(emu, voice="no_such_voice"), frames_to_send=[TTSSpeakFrame(TEXT)]
    )
    errors = [f for f in up if isinstance(f, ErrorFrame)]
    assert errors and "Invalid Voice ID" in errors[0].error
    assert not [f for f in down if isinstance(f, TTSAudioRawFrame)]


async def test_tts_bad_key_is_an_error_frame(emu: Emulator) -> None:
    """A rejected key fails the upgrade: an upstream ``ErrorFrame``, no socket opened."""
    down, up = await run_test(_tts(emu, key=BAD_KEY), frames_to_send=[TTSSpeakFrame(TEXT)])
    assert [f for f in up if isinstance(f, ErrorFrame)]
    assert not [f for f in down if isinstance(f, TTSAudioRawFrame)]
    assert emu.ws_connections.opened_total == 0


def _utterance() -> list[Frame]:
    pcm = speech(1.0) + silence(0.6)
    step = STT_RATE // 50 * 2  # 20 ms
    chunks = [
        InputAudioRawFrame(audio=pcm[i : i + step], sample_rate=STT_RATE, num_channels=1)
        for i in range(0, len(pcm), step)
    ]
    return [VADUserStartedSpeakingFrame(), *chunks, VADUserStoppedSpeakingFrame(), SleepFrame(1.0)]


@pytest.mark.parametrize("model", ["pulse", "pulse-2"])
async def test_stt_scripted_transcript(emu: Emulator, model: str) -> None:
    """``SmallestSTTService`` on ``/waves/v1/stt/live``: the final is the scripted utterance."""
    service = SmallestSTTService(
        api_key=f"{KEY};transcript={SAID}",
        base_url=emu.ws_url,
        sample_rate=STT_RATE,
        settings=SmallestSTTService.Settings(model=model, language=Language.EN),
    )
    down, up = await run_test(service, frames_to_send=_utterance())
    finals = [f.text for f in down if isinstance(f, TranscriptionFrame) and f.text]
    assert finals == [SAID]
    assert not [f for f in up if isinstance(f, ErrorFrame)]
    assert emu.stt_log[-1].params["model"] == model
