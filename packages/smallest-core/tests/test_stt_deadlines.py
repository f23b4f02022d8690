"""The STT stream's timers, on an explicit clock: keepalive, finalize and close deadlines.

``poll(now)`` applies what is due: the keepalive comes out of ``data_to_send()``, each
missed deadline out of ``events()``."""

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
    STTEvent,
    STTOptions,
    STTStreamState,
    Transcript,
)

KEEPALIVE = '{"type":"keepalive"}'


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


def _missed(state: STTStreamState, now: float) -> list[DeadlineMissed]:
    """Poll at ``now``; the missed deadlines it queued (any other event is an error)."""
    state.poll(now)
    events = state.events()
    assert all(isinstance(e, DeadlineMissed) for e in events)
    return [e for e in events if isinstance(e, DeadlineMissed)]


def _keepalives(state: STTStreamState, now: float) -> list[str]:
    """Poll at ``now``; the messages it queued."""
    state.poll(now)
    return state.data_to_send()


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
    assert _keepalives(state, 14.9) == []
    assert _keepalives(state, 15.0) == [KEEPALIVE]
    assert state.last_sent_at == 15.0 and state.next_deadline() == 20.0  # counted as sent
    assert _keepalives(state, 19.9) == []  # once per quiet interval
    state.sent(19.0)
    assert state.next_deadline() == 24.0


def test_no_keepalive_when_off_or_closing() -> None:
    off = _state(keepalive_interval_s=None)
    assert off.next_deadline() is None and _keepalives(off, 1e9) == []
    closing = _state(keepalive_interval_s=1.0)
    closing.close_stream(0.0)
    assert closing.data_to_send() == ['{"type":"close_stream"}']
    assert _keepalives(closing, 100.0) == []


def test_commands_and_inputs_return_nothing_and_queue_in_order() -> None:
    state = _state(keepalive_interval_s=1.0, finalize_timeout_s=2.0, close_timeout_s=3.0)
    results = [
        state.finalize(0.0),
        state.receive(_final()),
        state.poll(1.0),
        state.receive("not json"),
        state.poll(2.0),
        state.close_stream(2.5),
    ]
    assert results == [None] * len(results)
    assert state.data_to_send() == [
        '{"type":"finalize"}',
        KEEPALIVE,
        KEEPALIVE,
        '{"type":"close_stream"}',
    ]
    assert state.data_to_send() == []  # drained
    events: list[STTEvent | DeadlineMissed] = state.events()
    assert [type(e).__name__ for e in events] == [
        "Transcript",
        "STTError",
        "DeadlineMissed",
    ]
    assert state.events() == []  # drained


def test_a_finalize_is_owed_its_final_by_its_deadline() -> None:
    state = _state(keepalive_interval_s=None, finalize_timeout_s=2.0)
    state.finalize(10.0)
    assert state.data_to_send() == ['{"type":"finalize"}']
    assert state.finalize_pending == 1 and state.next_deadline() == 12.0
    assert _missed(state, 11.9) == []
    state.receive(_final(from_finalize=True))
    (final,) = state.events()
    assert isinstance(final, Transcript) and final.from_finalize
    assert state.finalize_pending == 0 and state.next_deadline() is None
    assert _missed(state, 100.0) == []


def test_a_missed_finalize_is_one_retryable_timeout_then_forgotten() -> None:
    state = _state(keepalive_interval_s=None, finalize_timeout_s=2.0)
    state.finalize(10.0)
    state.finalize(10.5)
    (missed,) = _missed(state, 13.0)  # both late: reported together, once
    assert isinstance(missed, DeadlineMissed) and missed.owed == "finalize"
    assert missed.error.kind is ErrorKind.TIMEOUT and missed.error.retryable
    assert missed.error.code == "finalize_timeout"
    assert "no final transcript within 2 s of finalize" in missed.error.message
    assert _missed(state, 20.0) == [] and state.next_deadline() is None
    state.receive(_final(from_finalize=True))  # a late answer settles nothing, breaks nothing
    assert state.finalize_pending == 0


def test_a_final_that_does_not_answer_a_finalize_settles_nothing() -> None:
    state = _state(keepalive_interval_s=None, finalize_timeout_s=2.0)
    state.finalize(0.0)
    state.receive(_final())  # an endpointing final, not the finalize's
    state.poll(2.0)
    assert [type(e).__name__ for e in state.events()] == ["Transcript", "DeadlineMissed"]


def test_the_last_transcript_answers_everything_owed() -> None:
    state = _state(keepalive_interval_s=None)
    state.finalize(0.0)
    state.close_stream(0.1)
    state.receive(_final(is_last=True))
    state.events()
    assert state.finished and state.next_deadline() is None and _missed(state, 1e9) == []


def test_a_missed_close_is_a_timeout() -> None:
    state = _state(keepalive_interval_s=None, close_timeout_s=0.4)
    state.close_stream(3.0)
    assert state.close_deadline() == state.next_deadline() == 3.4
    (missed,) = _missed(state, 3.4)
    assert missed.owed == "close" and missed.error.code == "close_timeout"
    assert "no last transcript within 0.4 s of close_stream" in missed.error.message
    assert state.close_deadline() is None and _missed(state, 10.0) == []


def test_a_new_connection_owes_nothing() -> None:
    state = _state(keepalive_interval_s=None)
    state.finalize(0.0)
    state.close_stream(0.0)
    state.connection_started()  # the finalize is sent again on the new socket
    assert state.next_deadline() is None and state.finalize_pending == 0
    assert state.data_to_send() == []  # nothing queued for the old socket goes out


_STEP = st.tuples(
    st.sampled_from(["finalize", "answer", "sent", "poll", "close"]),
    st.floats(min_value=0.0, max_value=3.0),
)


@given(st.lists(_STEP, max_size=40))
def test_nothing_is_queued_before_its_deadline_or_twice(
    steps: list[tuple[str, float]],
) -> None:
    """Random commands, frames and polls on a moving clock: each keepalive is queued once
    per quiet interval and never early; each missed deadline once and never early."""
    state = _state(keepalive_interval_s=1.0, finalize_timeout_s=2.0, close_timeout_s=1.5)
    now = 0.0
    owed: list[float] = []
    close_owed: float | None = None
    last_sent = 0.0
    closing = False
    for action, step in steps:
        now += step
        if action == "finalize":
            state.finalize(now)
            owed.append(now + 2.0)
        elif action == "close" and not closing:
            state.close_stream(now)
            closing, close_owed = True, now + 1.5
        elif action == "answer":
            state.receive(_final(from_finalize=True))
            if owed:
                owed.pop(0)
        elif action == "sent":
            state.sent(now)
            last_sent = now
        elif action == "poll":
            state.poll(now)
        for message in state.data_to_send():
            if message == KEEPALIVE:
                assert action == "poll" and not closing
                assert now >= last_sent + 1.0, "keepalive before it was due"
                last_sent = now
            else:
                assert message in ('{"type":"finalize"}', '{"type":"close_stream"}')
        for event in state.events():
            if isinstance(event, Transcript):
                continue
            assert isinstance(event, DeadlineMissed) and action == "poll"
            if event.owed == "finalize":
                assert any(t <= now for t in owed), "reported before its deadline"
                owed = [t for t in owed if t > now]
            else:
                assert close_owed is not None and close_owed <= now, "close reported early"
                close_owed = None  # reported once
        assert all(t > now for t in owed) or action != "poll"
        if action == "poll":
            assert close_owed is None or close_owed > now
            due = state.next_deadline()
            assert due is None or due > now  # a poll leaves nothing due
    assert state.finalize_pending == len(owed)
