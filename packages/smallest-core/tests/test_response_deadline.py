"""When the server owes a context its next frame."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smallest_core import DEFAULT_BUFFER_DELAY_S, ResponseDeadline, TTSOptions


def test_nothing_is_owed_before_anything_is_sent() -> None:
    assert ResponseDeadline(5.0).due() is None


def test_unanswered_text_is_owed_within_the_buffer_delay_plus_the_timeout() -> None:
    owed = ResponseDeadline(5.0, buffer_delay=3.0)
    owed.sent(10.0, closing=False)
    owed.sent(11.0, closing=False)  # the oldest unanswered text counts
    assert owed.due() == 18.0


def test_answered_text_owes_nothing_while_the_caller_is_quiet() -> None:
    owed = ResponseDeadline(5.0, buffer_delay=3.0)
    owed.sent(10.0, closing=False)
    owed.answered(12.0)
    assert owed.due() is None  # an LLM that pauses for a minute is not the server's fault


def test_after_the_close_everything_is_owed_from_the_latest_frame() -> None:
    owed = ResponseDeadline(5.0, buffer_delay=3.0)
    owed.sent(10.0, closing=False)
    owed.sent(11.0, closing=True)
    assert owed.due() == 16.0
    owed.answered(14.0)
    assert owed.due() == 19.0


def test_the_cores_own_pending_decision_counts_as_activity() -> None:
    owed = ResponseDeadline(5.0, buffer_delay=3.0)
    owed.sent(10.0, closing=True)
    assert owed.due(activity=20.0) == 25.0


def test_buffer_delay_follows_the_options() -> None:
    assert ResponseDeadline.for_options(5.0, TTSOptions()).buffer_delay == DEFAULT_BUFFER_DELAY_S
    opts = TTSOptions(max_buffer_delay_ms=250)
    assert ResponseDeadline.for_options(5.0, opts).buffer_delay == 0.25


@pytest.mark.parametrize(("timeout", "delay"), [(0.0, 1.0), (-1.0, 1.0), (1.0, -0.5)])
def test_bad_bounds_are_refused(timeout: float, delay: float) -> None:
    with pytest.raises(ValueError, match="timeout"):
        ResponseDeadline(timeout, delay)


_STEP = st.tuples(
    st.sampled_from(["text", "close", "frame"]),
    st.floats(min_value=0.0, max_value=100.0, allow_nan=False),
)


@given(st.lists(_STEP, max_size=30))
def test_a_deadline_is_never_before_the_latest_send_or_frame_plus_the_timeout(
    steps: list[tuple[str, float]],
) -> None:
    owed = ResponseDeadline(2.0, buffer_delay=1.0)
    now = 0.0
    closed = False
    last = 0.0
    for kind, gap in steps:
        now += gap
        if kind == "frame":
            owed.answered(now)
        else:
            owed.sent(now, closing=kind == "close")
            closed = closed or kind == "close"
        last = now
        due = owed.due()
        if kind == "close" or (closed and kind == "frame"):
            assert due is not None and due >= last + 2.0
        if due is not None:
            assert due >= 2.0
