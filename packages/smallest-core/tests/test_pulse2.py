"""Pulse 2 and the optional STT outputs, as the core parses and validates them."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smallest_core import (
    STTOptions,
    Transcript,
    catalog,
    check_batch_stt,
    check_session_id,
    check_streaming_stt,
    parse_batch_response,
)
from smallest_core.stt import parse_stt_frame


def _final(**extra: object) -> str:
    msg = {"type": "transcription", "transcript": "hello there", "is_final": True, **extra}
    return json.dumps(msg)


def test_a_pulse2_final_carries_end_of_turn_emotion_and_gender() -> None:
    event = parse_stt_frame(
        _final(speech_final=True, emotions={"happy": 0.7, "neutral": 0.2}, gender="female")
    )
    assert isinstance(event, Transcript)
    assert event.speech_final is True
    assert event.emotions == {"happy": 0.7, "neutral": 0.2}
    assert event.emotion == "happy"
    assert event.gender == "female"


def test_a_final_without_the_outputs_has_none_of_them() -> None:
    event = parse_stt_frame(_final())
    assert isinstance(event, Transcript)
    assert (event.speech_final, event.emotions, event.emotion, event.gender) == (
        None,
        None,
        None,
        None,
    )


def test_malformed_outputs_are_dropped_not_raised() -> None:
    event = parse_stt_frame(
        _final(speech_final="yes", emotions={"happy": "very", "sad": None, "": 1}, gender=3)
    )
    assert isinstance(event, Transcript)
    assert event.speech_final is None
    assert event.emotions is None
    assert event.gender is None


@given(st.dictionaries(st.text(max_size=5), st.one_of(st.floats(), st.integers(), st.text())))
def test_any_emotions_object_parses_to_finite_scores(scores: dict[str, object]) -> None:
    event = parse_stt_frame(_final(emotions=scores))
    assert isinstance(event, Transcript)
    for value in (event.emotions or {}).values():
        assert isinstance(value, float) and value == value and abs(value) != float("inf")


def test_pulse2_streams_english_only() -> None:
    opts = STTOptions(model=catalog.PULSE_2)
    check_streaming_stt(opts)
    assert opts.query()["model"] == "pulse-2"
    with pytest.raises(ValueError, match=r"language for pulse-2 .*allowed: en$"):
        STTOptions(model=catalog.PULSE_2, language="hi")


def test_pulse2_is_not_a_pre_recorded_model() -> None:
    with pytest.raises(ValueError, match="pulse-pro"):
        check_batch_stt(STTOptions(model=catalog.PULSE_2))
    check_batch_stt(STTOptions(model="pulse-pro"))


def test_session_id_goes_out_as_external_session_id() -> None:
    assert STTOptions(session_id="room-42.call_7").query()["external_session_id"] == (
        "room-42.call_7"
    )
    assert "external_session_id" not in STTOptions().query()


@pytest.mark.parametrize("bad", ["", "has space", "x" * 129, "semi;colon"])
def test_a_session_id_the_api_would_refuse_is_refused_early(bad: str) -> None:
    with pytest.raises(ValueError, match="session_id"):
        check_session_id(bad)
    with pytest.raises(ValueError, match="session_id"):
        STTOptions(session_id=bad)


def test_detection_flags_are_sent_only_when_asked() -> None:
    q = STTOptions(emotion_detection=True, gender_detection=True).query()
    assert (q["emotion_detection"], q["gender_detection"]) == ("true", "true")
    assert "emotion_detection" not in STTOptions().query()


def test_a_pre_recorded_result_carries_emotion_and_gender() -> None:
    body = json.dumps(
        {"status": "success", "transcription": "hi", "emotions": {"sad": 0.9}, "gender": "male"}
    ).encode()
    result = parse_batch_response(200, body)
    assert (result.emotion, result.gender) == ("sad", "male")


def test_metadata_is_one_vocabulary_for_streaming_and_batch() -> None:
    event = parse_stt_frame(_final(emotions={"sad": 0.1, "happy": 0.8}, gender="male"))
    assert isinstance(event, Transcript)
    expected = {"emotion": "happy", "emotions": {"sad": 0.1, "happy": 0.8}, "gender": "male"}
    assert event.metadata() == expected
    body = json.dumps({"transcription": "hi", "emotions": {"sad": 0.1, "happy": 0.8}})
    assert parse_batch_response(200, body.encode()).metadata() == {
        "emotion": "happy",
        "emotions": {"sad": 0.1, "happy": 0.8},
    }


def test_metadata_is_empty_without_the_outputs() -> None:
    event = parse_stt_frame(_final(speech_final=True))
    assert isinstance(event, Transcript) and event.metadata() == {}


@given(st.dictionaries(st.text(min_size=1, max_size=5), st.floats(0, 1), max_size=6))
def test_the_metadata_emotion_is_the_top_score(scores: dict[str, float]) -> None:
    event = parse_stt_frame(_final(emotions=scores))
    assert isinstance(event, Transcript)
    meta = event.metadata()
    if not scores:
        assert "emotion" not in meta
    else:
        assert meta["emotions"] == scores
        assert scores[meta["emotion"]] == max(scores.values())
