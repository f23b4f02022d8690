"""The STT stream's timers, on an explicit clock: keepalive, finalize and close deadlines."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smallest_core import (
    DEFAULT_CLOSE_TIMEOUT_S,
    DEFAULT_FINALIZE_TIMEOUT_S,
    DEFAULT_KEEPALIVE_INTERVAL_S,
    DeadlineMissed,
    ErrorKind,
    STTOptions,
    STTStreamState,
)


def _state(**timers: float | None) -> STTStreamState:
    state = STTStreamState(STTOptions(), **timers)  # type: ignore[arg-type]
    state.connection_started()
    return state


def _final(*, from_finalize: bool = False, is_last: bool = False) -> str:
    return json.dumps(
        {
            "type": "transcription",
            "transcript": "hello",
            "is_final": True,
            "from_finalize": from_finalize,
            "is_last": is_last,
        }
    )


def test_the_defaults_are_the_documented_ones() -> None:
    state = STTStreamState(STTOptions())
    assert (state.keepalive_interval_s, state.finalize_timeout_s, state.close_timeout_s) == (
        DEFAULT_KEEPALIVE_INTERVAL_S,
        DEFAULT_FINALIZE_TIMEOUT_S,
        DEFAULT_CLOSE_TIMEOUT_S,
    )


@pytest.mark.parametrize("name", ["keepalive_interval_s", "finalize_timeout_s", "close_timeout_s"])
@pytest.mark.parametrize("value", [0.0, -1.0, float("nan")])
def test_timers_must_be_positive(name: str, value: float) -> None:
    with pytest.raises(ValueError, match=name):
        STTStreamState(STTOptions(), **{name: value})  # type: ignore[arg-type]


def test_a_quiet_connection_is_owed_a_keepalive() -> None:
    state = _state(keepalive_interval_s=5.0)
    state.sent(10.0)
    assert state.next_deadline() == 15.0
    assert state.keepalive_message(14.9) is None
    assert state.keepalive_message(15.0) == '{"type":"keepalive"}'
    state.sent(15.0)
    assert state.next_deadline() == 20.0


def test_no_keepalive_when_off_or_closing() -> None:
    off = _state(keepalive_interval_s=None)
    assert off.next_deadline() is None and off.keepalive_message(1e9) is None
    closing = _state(keepalive_interval_s=1.0)
    closing.close_stream(0.0)
    assert closing.keepalive_message(100.0) is None


def test_a_finalize_is_owed_its_final_by_its_deadline() -> None:
    state = _state(keepalive_interval_s=None, finalize_timeout_s=2.0)
    state.finalize(10.0)
    assert state.finalize_pending == 1 and state.next_deadline() == 12.0
    assert state.missed(11.9) == []
    state.receive(_final(from_finalize=True))
    assert state.finalize_pending == 0 and state.next_deadline() is None
    assert state.missed(100.0) == []


def test_a_missed_finalize_is_one_retryable_timeout_then_forgotten() -> None:
    state = _state(keepalive_interval_s=None, finalize_timeout_s=2.0)
    state.finalize(10.0)
    state.finalize(10.5)
    (missed,) = state.missed(13.0)  # both late: reported together, once
    assert isinstance(missed, DeadlineMissed) and missed.owed == "finalize"
    assert missed.error.kind is ErrorKind.TIMEOUT and missed.error.retryable
    assert missed.error.code == "finalize_timeout"
    assert "no final transcript within 2 s of finalize" in missed.error.message
    assert state.missed(20.0) == [] and state.next_deadline() is None
    state.receive(_final(from_finalize=True))  # a late answer settles nothing, breaks nothing
    assert state.finalize_pending == 0


def test_a_final_that_does_not_answer_a_finalize_settles_nothing() -> None:
    state = _state(keepalive_interval_s=None, finalize_timeout_s=2.0)
    state.finalize(0.0)
    state.receive(_final())  # an endpointing final, not the finalize's
    assert [m.owed for m in state.missed(2.0)] == ["finalize"]


def test_the_last_transcript_answers_everything_owed() -> None:
    state = _state(keepalive_interval_s=None)
    state.finalize(0.0)
    state.close_stream(0.1)
    state.receive(_final(is_last=True))
    assert state.finished and state.next_deadline() is None and state.missed(1e9) == []


def test_a_missed_close_is_a_timeout() -> None:
    state = _state(keepalive_interval_s=None, close_timeout_s=0.4)
    state.close_stream(3.0)
    assert state.close_deadline() == state.next_deadline() == 3.4
    (missed,) = state.missed(3.4)
    assert missed.owed == "close" and missed.error.code == "close_timeout"
    assert "no last transcript within 0.4 s of close_stream" in missed.error.message
    assert state.close_deadline() is None and state.missed(10.0) == []


def test_a_new_connection_owes_nothing() -> None:
    state = _state(keepalive_interval_s=None)
    state.finalize(0.0)
    state.close_stream(0.0)
    state.connection_started()  # the finalize is sent again on the new socket
    assert state.next_deadline() is None and state.finalize_pending == 0


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["finalize", "answer", "sent", "tick"]),
            st.floats(min_value=0.0, max_value=3.0),
        ),
        max_size=40,
    )
)
def test_nothing_is_reported_before_its_deadline_or_twice(
    steps: list[tuple[str, float]],
) -> None:
    state = _state(keepalive_interval_s=1.0, finalize_timeout_s=2.0)
    now = 0.0
    owed: list[float] = []
    reported = 0
    for action, step in steps:
        now += step
        if action == "finalize":
            state.finalize(now)
            owed.append(now + 2.0)
        elif action == "answer":
            state.receive(_final(from_finalize=True))
            if owed:
                owed.pop(0)
        elif action == "sent":
            state.sent(now)
        due = state.next_deadline()
        assert due is not None  # the keepalive is always ahead
        for missed in state.missed(now):
            late = [t for t in owed if t <= now]
            assert late, "reported before its deadline"
            owed = [t for t in owed if t > now]
            reported += 1
            assert missed.owed == "finalize"
        assert all(t > now for t in owed)
    assert state.finalize_pending == len(owed)
