"""The newer models on every framework: Lightning v4 turns and barge-in, Pulse 2's turn
outputs, and the regional hosts.

Truth is what the caller gave and what the emulator made for it: each v4 reply is compared
with the audio the emulator streamed for the turns that spoke its words, and Pulse 2's
emotion and gender with the final frame the emulator sent.
"""

from __future__ import annotations

import pytest
from conformance_kit import key
from drivers import Driver

from smallest_emulator import Emulator
from smallest_emulator.engines.deterministic import synthesize

REPLIES = ["Hello from the fourth generation.", "A second reply on the same session."]
LONG = " ".join(f"Sentence number {n} keeps the voice busy for a while." for n in range(8))
AFTER = "Sure, go ahead."
RATE = 16000


def v4_records(emu: Emulator) -> list[object]:
    return [r for r in emu.tts_log if r.transport == "v4"]


def made_for(emu: Emulator, text: str) -> bytes:
    """The audio the emulator streamed for the v4 turns that spoke ``text``'s words."""
    records = [r for r in v4_records(emu) if r.text.strip() and r.text.strip() in text]
    assert " ".join(r.text.strip() for r in records) == text.strip()
    return b"".join(bytes(r.pcm) for r in records)


async def test_v4_replies_are_exact_on_one_session(emu: Emulator, driver: Driver):
    """Lightning v4: each reply is exactly the audio made for its words, on one session."""
    results = await driver.v4_turns(emu, REPLIES, api_key=key())
    assert [r.error for r in results] == [None, None]
    assert [r.audio for r in results] == [made_for(emu, text) for text in REPLIES]
    assert emu.ws_connections.per_route.get("lightning-v4") == 1


async def test_v4_barge_in_leaves_no_stale_audio(emu: Emulator, driver: Driver):
    """Lightning v4 barge-in: interrupt on the same session, the next reply has none of the old"""
    emu.config.speed = 8.0  # paced, so the first reply is still speaking when cut off
    results = await driver.v4_turns(
        emu, [LONG, AFTER], api_key=key(), barge_in_first_after_bytes=9600
    )
    first, second = results
    assert first.interrupted and first.error is None
    long_audio = b"".join(bytes(r.pcm) for r in v4_records(emu) if r.text.strip() in LONG)
    assert long_audio.startswith(first.audio)  # what played of it was its own
    assert len(first.audio) < len(long_audio)  # and it stopped
    assert second.error is None
    assert second.audio == made_for(emu, AFTER)  # not one byte of the interrupted reply
    assert emu.ws_connections.per_route.get("lightning-v4") == 1  # no reconnect


async def test_pulse2_turn_outputs_reach_the_transcript(emu: Emulator, driver: Driver):
    """Pulse 2: each final carries the emotion and gender the server sent for it"""
    text = "I am so happy with this service"
    pcm = synthesize(text, RATE).pcm + b"\0\0" * (RATE // 2)
    result, outputs = await driver.pulse2_stream(emu, pcm, api_key=key(transcript=text))
    assert result.error is None, result.error
    assert result.finals == [text]
    (record,) = [r for r in emu.stt_log if r.transport == "ws"]
    assert record.params["model"] == "pulse-2"
    sent = [f for f in record.transcripts if f.get("is_final") and f.get("transcript")]
    truth = [
        {"emotion": max(f["emotions"], key=f["emotions"].get), "gender": f["gender"]} for f in sent
    ]
    assert outputs == truth


@pytest.mark.parametrize(
    ("language", "region", "host"),
    [("ja", "india", "api.us.smallest.ai"), ("ta", "us", "api.smallest.ai")],
)
async def test_a_language_its_region_cannot_stream_is_refused_early(
    driver: Driver, language: str, region: str, host: str
):
    """Regions: a language the chosen host cannot stream is a ValueError naming the host"""
    with pytest.raises(ValueError, match=host.replace(".", r"\.")):
        driver.build_stt(api_key="sk_test", base_url=None, language=language, region=region)
