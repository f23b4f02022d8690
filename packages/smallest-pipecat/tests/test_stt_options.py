"""STT options: regions, the keyword cap, strict keywords, the official settings, Pulse 2."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from pipecat.frames.frames import (
    ProposedUserStoppedSpeakingFrame,
    TranscriptionFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.transcriptions.language import Language
from pipecat_pipeline import Harness
from pipecat_stt_kit import FIRST, RATE, audio_frames, speech

from smallest_core import DEFAULT_BASE_URL, US_BASE_URL
from smallest_emulator import Emulator
from smallest_pipecat import SmallestSTTService

Settings = SmallestSTTService.Settings


def stt(emu: Emulator | None = None, **kwargs: object) -> SmallestSTTService:
    base_url = emu.base_url if emu is not None else None
    key = f"sk_test;transcript={quote(FIRST)}"
    return SmallestSTTService(api_key=key, base_url=base_url, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("language", "region", "host"),
    [
        (Language.JA, "india", US_BASE_URL),
        ("ta", "us", DEFAULT_BASE_URL),
        ("ko", "india", US_BASE_URL),
    ],
)
def test_a_region_that_cannot_stream_the_language_names_the_host(
    language: object, region: str, host: str
) -> None:
    with pytest.raises(ValueError, match=host.replace(".", r"\.")):
        stt(region=region, settings=Settings(language=language))


def test_auto_routes_by_language_and_a_region_picks_the_host() -> None:
    assert stt(settings=Settings(language=Language.JA)).endpoints.base_url == US_BASE_URL
    assert stt(settings=Settings(language="ta")).endpoints.base_url == DEFAULT_BASE_URL
    assert stt(settings=Settings(language="en")).endpoints.base_url == DEFAULT_BASE_URL
    assert stt(region="us", settings=Settings(language="en")).endpoints.base_url == US_BASE_URL
    with pytest.raises(ValueError, match="auto, india, us"):
        stt(region="eu")


async def test_a_custom_root_is_kept_for_every_language(default_emulator: Emulator) -> None:
    service = stt(default_emulator, settings=Settings(language="ja"))
    assert service.endpoints.base_url == default_emulator.base_url
    async with Harness(service, in_rate=RATE) as h:
        await h.send(*audio_frames(speech(FIRST)))
        await h.end()
    (record,) = default_emulator.stt_log
    assert record.params["language"] == "ja"


def test_the_keyword_cap_is_enforced_at_construction() -> None:
    stt(settings=Settings(keywords=tuple(f"term{i}" for i in range(100))))
    with pytest.raises(ValueError, match="at most 100 keywords"):
        stt(settings=Settings(keywords=tuple(f"term{i}" for i in range(101))))


@pytest.mark.parametrize(
    ("kwargs", "hint"),
    [
        ({"languge": "en"}, "check the spelling"),
        ({"language": "en"}, r"settings=SmallestSTTService\.Settings\(language=\.\.\.\)"),
        ({"params": object()}, "InputParams"),
        ({"emotion_detection": True}, "pulse-2"),
        ({"external_session_id": "abc"}, "session_id="),
    ],
)
def test_unknown_keywords_raise_and_say_where_the_value_lives(
    kwargs: dict[str, object], hint: str
) -> None:
    with pytest.raises(TypeError, match=hint):
        stt(**kwargs)


async def test_official_settings_reach_the_query(default_emulator: Emulator) -> None:
    service = stt(
        default_emulator,
        session_id="call-42.a_b",
        settings=Settings(sentence_timestamps=True, full_transcript=True, format=False),
    )
    async with Harness(service, in_rate=RATE) as h:
        await h.send(*audio_frames(speech(FIRST)))
        await h.end()
    (record,) = default_emulator.stt_log
    params = record.params
    assert params["sentence_timestamps"] == "true" and params["full_transcript"] == "true"
    assert params["punctuate"] == params["capitalize"] == params["itn_normalize"] == "false"
    assert params["external_session_id"] == "call-42.a_b"
    (final,) = h.down.of(TranscriptionFrame)
    assert final.text == FIRST


def test_format_false_conflicts_with_explicit_formatting() -> None:
    with pytest.raises(ValueError, match="format=False"):
        stt(settings=Settings(format=False, capitalize=True))
    with pytest.raises(ValueError, match="session_id"):
        stt(session_id="has spaces")


async def test_pulse_2_finals_carry_emotion_gender_and_end_of_turn(
    default_emulator: Emulator,
) -> None:
    service = stt(default_emulator, settings=Settings(model="pulse-2", eou_timeout_ms=300))
    turns: list[str] = []

    @service.event_handler("on_end_of_turn")
    async def on_end_of_turn(_service: SmallestSTTService, text: str) -> None:
        turns.append(text)

    silence = b"\0" * (RATE * 2 // 2)
    async with Harness(service, in_rate=RATE) as h:
        await h.send(*audio_frames(speech(FIRST) + silence))
        await h.wait_for(lambda: bool(h.down.of(ProposedUserStoppedSpeakingFrame)))
        await h.end()
    (record,) = default_emulator.stt_log
    assert record.params["model"] == "pulse-2"
    sent = next(t for t in record.transcripts if t["is_final"] and t["transcript"])
    (final,) = h.down.of(TranscriptionFrame)
    assert final.text == FIRST and final.finalized
    assert final.metadata["gender"] == sent["gender"]
    assert final.metadata["emotions"] == sent["emotions"]
    assert final.metadata["emotion"] == max(sent["emotions"], key=sent["emotions"].get)
    assert turns == [FIRST]


async def test_pulse_finals_carry_no_turn_outputs(default_emulator: Emulator) -> None:
    async with Harness(stt(default_emulator), in_rate=RATE) as h:
        await h.send(VADUserStartedSpeakingFrame(), *audio_frames(speech(FIRST)))
        await h.send(VADUserStoppedSpeakingFrame())
        await h.wait_for(lambda: bool(h.down.of(TranscriptionFrame)))
        await h.end()
    (final,) = h.down.of(TranscriptionFrame)
    assert "gender" not in final.metadata and "emotions" not in final.metadata
    assert not h.down.of(ProposedUserStoppedSpeakingFrame)


def test_pulse_2_is_english_only() -> None:
    with pytest.raises(ValueError, match="language for pulse-2 'hi'; allowed: en"):
        stt(settings=Settings(model="pulse-2", language="hi"))
