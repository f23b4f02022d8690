"""The API key never reaches a log line, even with websockets logging at DEBUG."""

from __future__ import annotations

import logging

import pytest
from pipecat.frames.frames import TTSSpeakFrame
from pipecat.transcriptions.language import Language
from pipecat_pipeline import Harness
from test_stt_stream import FIRST, RATE, audio_frames, speech

from smallest_emulator import Emulator
from smallest_pipecat import SmallestSTTService, SmallestTTSService

SECRET = "sk_redaction_canary_41"


async def test_key_not_in_debug_logs(
    default_emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tts = SmallestTTSService(
        api_key=SECRET,
        base_url=default_emulator.base_url,
        settings=SmallestTTSService.Settings(voice="liam", language=Language.EN),
    )
    stt = SmallestSTTService(
        api_key=f"{SECRET};transcript={FIRST}", base_url=default_emulator.base_url
    )
    async with Harness(tts) as h:
        await h.send(TTSSpeakFrame("Hello there."))
        await h.end()
    async with Harness(stt, in_rate=RATE) as h:
        await h.send(*audio_frames(speech(FIRST)))
        await h.end()
    lines = [record.getMessage() for record in caplog.records]
    assert any(line.startswith("> GET /waves/v1/tts/live") for line in lines)
    assert any(line.startswith("> GET /waves/v1/stt/live") for line in lines)
    assert any(line.startswith("> Authorization: [redacted]") for line in lines)
    assert not [line for line in lines if SECRET in line]
