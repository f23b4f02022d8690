"""When speech starts and ends and when a turn ends: one rule for every adapter, read
from frame lists as the server sends them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smallest_core import (
    DeadlineMissed,
    SpeechActivity,
    STTEvent,
    STTOptions,
    STTStreamState,
    catalog,
    ends_speech,
    ends_turn,
)

PULSE, PULSE_2 = "pulse", catalog.PULSE_2


def _events(*frames: dict[str, Any]) -> list[STTEvent]:
    state = STTStreamState(STTOptions())
    state.connection_started()
    for f in frames:
        state.receive(json.dumps(f))
    events = state.events()
    assert all(not isinstance(e, DeadlineMissed) for e in events)
    return [e for e in events if not isinstance(e, DeadlineMissed)]


def _t(text: str = "hello", **flags: Any) -> dict[str, Any]:
    return {"type": "transcription", "transcript": text, **flags}


def _edges(model: str, vad_events: bool, *frames: dict[str, Any]) -> list[str]:
    """``+`` where speech starts and ``-`` where it ends, one entry per frame."""
    activity = SpeechActivity(model=model, vad_events=vad_events)
    out = []
    for event in _events(*frames):
        mark = "+" if activity.starts(event) else ""
        mark += "-" if activity.ends(event) else ""
        out.append(mark or ".")
    return out


FINAL = _t(is_final=True)
FINALIZED = _t(is_final=True, from_finalize=True)
LAST = _t("", is_final=True, is_last=True)
VAD_START = {"type": "speech_started", "timestamp": 0.1}
VAD_END = {"type": "speech_ended", "timestamp": 0.9}


def test_pulse_without_vad_events_ends_speech_at_every_final() -> None:
    frames = (_t(is_final=False), FINAL, _t(is_final=False), FINAL)
    assert _edges(PULSE, False, *frames) == ["+", "-", "+", "-"]


def test_pulse_with_vad_events_ends_speech_at_speech_ended_not_at_a_final() -> None:
    frames = (VAD_START, _t(is_final=False), FINAL, FINAL, VAD_END)
    assert _edges(PULSE, True, *frames) == ["+", ".", ".", ".", "-"]


@pytest.mark.parametrize("model", [PULSE, PULSE_2])
@pytest.mark.parametrize("vad_events", [False, True])
def test_a_finalize_answer_or_the_last_final_always_ends_speech(
    model: str, vad_events: bool
) -> None:
    assert _edges(model, vad_events, _t(is_final=False), FINALIZED) == ["+", "-"]
    assert _edges(model, vad_events, _t(is_final=False), LAST) == ["+", "-"]


@pytest.mark.parametrize("vad_events", [False, True])
def test_pulse_2_ends_speech_at_its_end_of_turn_only(vad_events: bool) -> None:
    frames = (
        VAD_START,
        _t("I would like", is_final=True, speech_final=False),
        VAD_END,  # a pause inside the turn
        _t("a refund", is_final=True, speech_final=True),
    )
    assert _edges(PULSE_2, vad_events, *frames) == ["+", ".", ".", "-"]


def test_an_empty_transcript_does_not_start_speech() -> None:
    assert _edges(PULSE, False, _t("  ", is_final=False), _t("", is_final=True)) == [".", "."]


def test_only_pulse_2_speech_final_ends_a_turn() -> None:
    (p2_end, p2_mid, interim) = _events(
        _t(is_final=True, speech_final=True),
        _t(is_final=True, speech_final=False),
        _t(is_final=False, speech_final=True),
    )
    assert ends_turn(p2_end, PULSE_2)
    assert not ends_turn(p2_mid, PULSE_2) and not ends_turn(interim, PULSE_2)
    assert not ends_turn(p2_end, PULSE)  # Pulse's speech_final is no turn decision


def test_speech_ended_ends_speech_for_pulse_only() -> None:
    (ended,) = _events(VAD_END)
    assert ends_speech(ended, model=PULSE, vad_events=True)
    assert not ends_speech(ended, model=PULSE_2, vad_events=True)


def test_stop_reports_an_end_only_while_speaking() -> None:
    activity = SpeechActivity(model=PULSE, vad_events=True)
    assert not activity.stop()
    activity.starts(_events(VAD_START)[0])
    assert activity.stop() and not activity.speaking


_FRAME = st.sampled_from(
    [
        _t(is_final=False),
        _t("", is_final=False),
        FINAL,
        _t("", is_final=True),
        FINALIZED,
        _t(is_final=True, speech_final=True),
        _t(is_final=True, speech_final=False),
        LAST,
        VAD_START,
        VAD_END,
        {"type": "pong"},
    ]
)


@given(st.sampled_from([PULSE, PULSE_2]), st.booleans(), st.lists(_FRAME, max_size=30))
def test_starts_and_ends_alternate(model: str, vad: bool, frames: list[dict[str, Any]]) -> None:
    edges = "".join(e for e in _edges(model, vad, *frames) if e != ".")
    assert edges.replace("+-", "").strip("+") == ""  # + - + - ... (maybe a last +)
    assert "++" not in edges and "--" not in edges
