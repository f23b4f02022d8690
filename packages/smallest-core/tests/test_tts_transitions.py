"""The context transition table, walked through the public API: every entry is reachable
and lands where the table says; every command it lacks raises ``ProtocolMisuse``."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_tts_connection import OPTS, chunk, complete, word

from smallest_core import LightningV4Options, LightningV4Session, TTSConnection
from smallest_core.errors import ProtocolMisuse
from smallest_core.tts_context import COMMANDS, PUBLIC_STATE, TRANSITIONS, Input, Phase

TEXT = "Hi there."


def _open() -> tuple[TTSConnection, str]:
    conn = TTSConnection(OPTS, end_grace_s=0.3)
    conn.start_context("a")
    conn.push_text("a", TEXT)
    return conn, "a"


def _held(close: bool) -> tuple[TTSConnection, str]:
    conn = TTSConnection(OPTS, end_grace_s=0.3)
    conn.start_context("x")
    conn.push_text("x", "Busy.")  # sent; the server echoes nothing yet: "a" must wait
    conn.start_context("a")
    conn.push_text("a", TEXT)
    if close:
        conn.end_input("a")
    return conn, "a"


def _closing() -> tuple[TTSConnection, str]:
    conn, a = _open()
    conn.end_input(a)
    return conn, a


def _completed() -> tuple[TTSConnection, str]:
    conn, a = _closing()
    conn.receive(complete(ctx=a), 1.0)  # words owed: not known to be the last
    return conn, a


def reach(phase: Phase) -> tuple[TTSConnection, str]:
    """A connection with context ``"a"`` in ``phase``, by public commands and frames."""
    if phase is Phase.NEW:  # behind a context the server has: its text would be held
        conn = TTSConnection(OPTS, end_grace_s=0.3)
        conn.start_context("x")
        conn.push_text("x", "Busy.")
        return conn, conn.start_context("a")
    if phase in (Phase.HELD, Phase.HELD_CLOSED):
        return _held(close=phase is Phase.HELD_CLOSED)
    if phase is Phase.OPEN:
        return _open()
    if phase is Phase.CLOSING:
        return _closing()
    if phase is Phase.COMPLETED:
        return _completed()
    if phase is Phase.ENDED:
        conn, a = _closing()
        conn.receive(word("Hi", 0.0, 0.2, ctx=a), 0.5)
        conn.receive(word("there.", 0.25, 0.5, ctx=a), 0.6)
        conn.receive(complete(ctx=a), 1.0)
        return conn, a
    if phase is Phase.ENDED_BY_GRACE:
        conn, a = _completed()
        conn.poll(10.0)
        return conn, a
    conn, a = _open()
    if phase is Phase.CANCELLED:
        conn.cancel(a, now=1.0)
    else:
        conn.time_out(a)
    return conn, a


def apply(conn: TTSConnection, a: str, event: Input) -> None:
    """Make ``event`` happen to context ``a`` through the public API."""
    if event is Input.TEXT:
        conn.push_text(a, " More.")
    elif event is Input.CLOSE:
        conn.end_input(a)
    elif event is Input.CANCEL:
        conn.cancel(a, now=2.0)
    elif event is Input.TIME_OUT:
        conn.time_out(a)
    elif event is Input.SEND:
        conn.receive(chunk(b"\x01\x00", ctx="x"), 2.0)  # ids echoed: routing is safe now
    elif event is Input.AUDIO:
        conn.receive(chunk(b"\x01\x00", ctx=a), 2.0)
    elif event is Input.COMPLETE:
        conn.receive(complete(ctx=a), 2.0)
    elif event is Input.LAST_COMPLETE:
        conn.receive(word("Hi", 0.0, 0.2, ctx=a), 2.0)
        conn.receive(word("there.", 0.25, 0.5, ctx=a), 2.0)
        conn.receive(complete(ctx=a), 2.0)
    elif event is Input.SUPERSEDED:
        conn.start_context("b")
        conn.push_text("b", "Next.")
        conn.receive(chunk(b"\x01\x00", ctx="b"), 2.0)
    elif event is Input.GRACE_EXPIRED:
        conn.poll(100.0)
    elif event is Input.FAIL:
        conn.receive(json.dumps({"status": "error", "message": "boom", "context_id": a}), 2.0)
    else:
        conn.connection_lost(1006, "reset")


def phase_of(conn: TTSConnection, a: str) -> Phase:
    return conn._contexts[a].phase


@pytest.mark.parametrize("phase", list(Phase))
def test_every_phase_is_reachable_and_reported_coarsely(phase):
    conn, a = reach(phase)
    assert phase_of(conn, a) is phase
    assert conn.context_state(a) is PUBLIC_STATE[phase]


@pytest.mark.parametrize(
    ("start", "event", "end"),
    [(p, i, n) for (p, i), n in TRANSITIONS.items()],
    ids=[f"{p}-{i}" for p, i in TRANSITIONS],
)
def test_every_transition_in_the_table_happens_as_listed(start, event, end):
    conn, a = reach(start)
    conn.events()
    apply(conn, a, event)
    assert phase_of(conn, a) is end


MISUSES = [(p, i) for p in Phase for i in sorted(COMMANDS) if (p, i) not in TRANSITIONS]


def test_only_text_after_the_input_ended_is_a_command_the_table_refuses():
    assert {i for _, i in MISUSES} == {Input.TEXT}
    assert {p for p, _ in MISUSES} == {
        Phase.HELD_CLOSED,
        Phase.CLOSING,
        Phase.COMPLETED,
        Phase.ENDED,
        Phase.ENDED_BY_GRACE,
    }


@pytest.mark.parametrize(("phase", "event"), MISUSES, ids=[f"{p}-{i}" for p, i in MISUSES])
def test_a_command_the_table_lacks_raises_protocol_misuse_and_changes_nothing(phase, event):
    conn, a = reach(phase)
    conn.data_to_send()
    with pytest.raises(ProtocolMisuse, match=r"'a' cannot take 'text'.*until end_input\(\)"):
        apply(conn, a, event)
    with pytest.raises(ProtocolMisuse):
        conn.push_text(a, "")
    assert phase_of(conn, a) is phase
    assert conn.data_to_send() == []
    assert isinstance(ProtocolMisuse("x"), RuntimeError)


@pytest.mark.parametrize(
    "command",
    [
        lambda c: c.push_text("nope", "x"),
        lambda c: c.end_input("nope"),
        lambda c: c.cancel("nope"),
        lambda c: c.time_out("nope"),
        lambda c: c.context_text("nope"),
    ],
    ids=["push_text", "end_input", "cancel", "time_out", "context_text"],
)
def test_an_unknown_context_is_misuse(command):
    conn = TTSConnection(OPTS)
    with pytest.raises(ProtocolMisuse, match=r"unknown context 'nope'.*start_context"):
        command(conn)


def test_connection_level_misuse_names_what_is_allowed():
    conn = TTSConnection(OPTS)
    conn.start_context("a")
    with pytest.raises(ProtocolMisuse, match=r"'a' already exists.*ids must be new"):
        conn.start_context("a")
    legacy = TTSConnection(OPTS, protocol="legacy")
    legacy.start_context()
    with pytest.raises(ProtocolMisuse, match=r"one context at a time.*end or cancel"):
        legacy.start_context()
    with pytest.raises(ProtocolMisuse, match="one context at a time"):
        legacy.synthesize("Hello.")
    conn.connection_lost(1000)
    with pytest.raises(ProtocolMisuse, match="closed: start contexts on a new one"):
        conn.start_context()
    with pytest.raises(ProtocolMisuse, match="closed"):
        conn.synthesize("Hello.")
    with pytest.raises(ValueError, match="lone surrogate"):  # bad input stays a ValueError
        TTSConnection(OPTS).synthesize("\ud800")


def test_commands_return_nothing_and_events_drain_in_order():
    conn = TTSConnection(OPTS, end_rule="complete")
    assert conn.start_context("e") == "e"
    assert conn.end_input("e") is None  # empty: ends at once
    assert conn.start_context("a") == "a"
    assert conn.push_text("a", "Hi.") is None
    assert conn.end_input("a") is None
    assert conn.receive(chunk(b"\x01\x00", ctx="a"), 0.0) is None
    assert conn.receive(complete(ctx="a"), 0.0) is None
    assert conn.poll(1.0) is None
    assert [(type(e).__name__, e.context_id) for e in conn.events()] == [
        ("ContextEnded", "e"),
        ("AudioReceived", "a"),
        ("ContextEnded", "a"),
    ]
    assert conn.events() == []
    assert conn.synthesize("One.") != ""
    b = conn.start_context("b")
    assert conn.cancel(b) is None
    assert conn.time_out(b) is None
    assert conn.connection_lost(1006, "x") is None
    assert [type(e).__name__ for e in conn.events()] == ["ContextFailed"]  # the one-shot


def test_lightning_v4_commands_return_nothing_and_misuse_is_typed():
    session = LightningV4Session(LightningV4Options())
    assert session.speak("One.", turn_id="t") == "t"
    with pytest.raises(ProtocolMisuse, match=r"'t' already exists.*ids must be new"):
        session.speak("Two.", turn_id="t")
    assert session.receive(json.dumps({"event": "ready"})) is None
    assert session.interrupt() is None
    assert session.end() is None
    assert session.connection_lost(1000) is None
    assert session.interrupt() is None  # on a closed session: nothing to do
    with pytest.raises(ProtocolMisuse, match="closed: speak and add user turns on a new one"):
        session.speak("Three.")
    with pytest.raises(ProtocolMisuse, match="closed"):
        session.add_user_turn("Hi", b"\x00\x00", 16000)


# ----------------------------------------------------------------------- property

steps = st.lists(
    st.one_of(
        st.tuples(st.just("command"), st.sampled_from(sorted(COMMANDS)), st.sampled_from("ab")),
        st.tuples(
            st.just("input"),
            st.sampled_from([Input.SEND, Input.AUDIO, Input.COMPLETE, Input.LAST_COMPLETE]),
            st.sampled_from("ab"),
        ),
        st.tuples(
            st.just("input"), st.sampled_from([Input.GRACE_EXPIRED, Input.FAIL]), st.just("a")
        ),
    ),
    max_size=25,
)


def _reachable() -> dict[Phase, set[Phase]]:
    """Phases each phase can lead to through table entries (one call may take several)."""
    out = {p: {n for (q, _), n in TRANSITIONS.items() if q is p} for p in Phase}
    changed = True
    while changed:
        changed = False
        for targets in out.values():
            more = set().union(*(out[t] for t in targets)) - targets
            if more:
                targets |= more
                changed = True
    return out


REACHABLE = _reachable()


@settings(max_examples=200, deadline=None)
@given(steps)
def test_any_sequence_moves_only_by_the_table_and_misuse_is_the_only_error(seq):
    """Whatever the caller and the server do, each context's phase changes only along
    table entries (one call may follow several), and the only exception is
    ``ProtocolMisuse``, for text after the input ended."""
    conn = TTSConnection(OPTS, end_grace_s=0.3)
    conn.start_context("x")
    conn.start_context("a")
    conn.start_context("b")
    for _kind, event, ctx in seq:
        if ctx not in conn._contexts:
            continue
        before = {k: c.phase for k, c in conn._contexts.items()}
        try:
            apply(conn, ctx, event)
        except ProtocolMisuse:
            assert event is Input.TEXT and (before[ctx], Input.TEXT) not in TRANSITIONS
        for k, c in conn._contexts.items():
            if k in before and c.phase is not before[k]:
                assert c.phase in REACHABLE[before[k]], f"{k}: {before[k]} -> {c.phase}"
        conn.events()
        conn.data_to_send()
