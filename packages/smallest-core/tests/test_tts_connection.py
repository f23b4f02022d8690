"""TTSConnection: routing, cancel, end-of-context rules and accounting, frame by frame."""

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smallest_core import (
    AudioReceived,
    ConnectionFailed,
    ContextEnded,
    ContextFailed,
    ContextState,
    FrameIgnored,
    TTSConnection,
    TTSOptions,
    WordReceived,
)
from smallest_core.errors import ErrorKind
from smallest_core.tts_connection import (
    MISSING_WORDS_GRACE_S,
    is_idle_timeout,
)

OPTS = TTSOptions(voice_id="magnus", sample_rate=24000)


def chunk(audio: bytes, rid="r1", ctx=None, ext=None) -> str:
    msg = {
        "status": "chunk",
        "request_id": rid,
        "data": {"audio": base64.b64encode(audio).decode()},
    }
    if ctx:
        msg["context_id"] = ctx
    if ext:
        msg["external_request_id"] = ext
    return json.dumps(msg)


def word(w, start, end, rid="r1", ctx=None) -> str:
    msg = {
        "status": "word_timestamp",
        "request_id": rid,
        "data": {"word": w, "start": start, "end": end},
    }
    if ctx:
        msg["context_id"] = ctx
    return json.dumps(msg)


def complete(rid="r1", ctx=None) -> str:
    msg = {"status": "complete", "request_id": rid}
    if ctx:
        msg["context_id"] = ctx
    return json.dumps(msg)


def audio_of(events, ctx=None) -> bytes:
    return b"".join(
        e.audio for e in events if isinstance(e, AudioReceived) and ctx in (None, e.context_id)
    )


def sent(conn) -> list[dict]:
    return [json.loads(m) for m in conn.data_to_send()]


def recv(conn: TTSConnection, data, now) -> list:
    """Feed one frame; the events it queued."""
    assert conn.receive(data, now) is None
    return conn.events()


def poll(conn: TTSConnection, now) -> list:
    assert conn.poll(now) is None
    return conn.events()


def cancel(conn: TTSConnection, ctx, now=None) -> list:
    assert conn.cancel(ctx, now) is None
    return conn.events()


def end_input(conn: TTSConnection, ctx) -> list:
    assert conn.end_input(ctx) is None
    return conn.events()


def time_out(conn: TTSConnection, ctx) -> list:
    assert conn.time_out(ctx) is None
    return conn.events()


def lost(conn: TTSConnection, code=None, reason="") -> list:
    assert conn.connection_lost(code, reason) is None
    return conn.events()


def test_messages_for_a_context():
    conn = TTSConnection(OPTS)
    ctx = conn.start_context("c1")
    assert conn.data_to_send() == []
    conn.push_text(ctx, "Hello")
    conn.push_text(ctx, " ")
    conn.push_text(ctx, "world.")
    end_input(conn, ctx)
    msgs = sent(conn)
    assert [m["text"] for m in msgs] == ["Hello", " ", "world.", ""]
    assert [m["continue"] for m in msgs] == [True, True, True, False]
    assert all(m["context_id"] == "c1" and m["voice_id"] == "magnus" for m in msgs)
    assert all(m["word_timestamps"] is True for m in msgs)  # requested for end detection
    assert msgs[0]["complete_backoff_ms"] == 0
    assert conn.context_state(ctx) is ContextState.CLOSING


def test_echoed_ids_route_interleaved_frames_to_their_own_context():
    conn = TTSConnection(OPTS)
    a, b = conn.start_context("a"), conn.start_context("b")
    conn.push_text(a, "One.")
    recv(conn, chunk(b"\x01\x00", ctx="a"), 0)  # the server echoes: b may be sent now
    conn.push_text(b, "Two.")
    assert [m["context_id"] for m in sent(conn)] == ["a", "b"]
    ev = recv(conn, chunk(b"\x02\x00", rid="r2", ctx="b"), 0)
    ev += recv(conn, chunk(b"\x03\x00", ctx="a"), 0)
    ev += recv(conn, chunk(b"\x04\x00", rid="r3", ext="b"), 0)
    assert audio_of(ev, "a") == b"\x03\x00"
    assert audio_of(ev, "b") == b"\x02\x00\x04\x00"


def test_without_echo_the_next_context_is_held_until_the_previous_ends():
    conn = TTSConnection(OPTS, end_rule="complete")
    a = conn.start_context("a")
    conn.push_text(a, "One.")
    end_input(conn, a)
    b = conn.start_context("b")
    conn.push_text(b, "Two.")
    end_input(conn, b)
    assert [m["context_id"] for m in sent(conn)] == ["a", "a"]
    ev = recv(conn, chunk(b"\x01\x00", rid="x"), 0)
    assert conn.data_to_send() == []
    ev += recv(conn, complete(rid="x"), 0)
    assert any(isinstance(e, ContextEnded) and e.context_id == "a" for e in ev)
    released = sent(conn)
    assert [(m["context_id"], m["text"]) for m in released] == [("b", "Two."), ("b", "")]
    ev = recv(conn, chunk(b"\x02\x00", rid="y"), 0)
    assert audio_of(ev, "b") == b"\x02\x00"


def test_a_later_contexts_frame_ends_an_earlier_closed_context():
    """One complete per burst (§4.3): the first context of the burst gets none."""
    conn = TTSConnection(OPTS)
    a = conn.start_context("a")
    conn.push_text(a, "One.")
    end_input(conn, a)
    recv(conn, chunk(b"\x01\x00", ctx="a"), 0)
    b = conn.start_context("b")
    conn.push_text(b, "Two.")
    end_input(conn, b)
    ev = recv(conn, chunk(b"\x02\x00", rid="r2", ctx="b"), 0)
    assert isinstance(ev[0], ContextEnded) and ev[0].context_id == "a"
    assert ev[0].reason == "superseded"
    assert audio_of(ev, "b") == b"\x02\x00"


def test_cancel_sends_cancel_request_and_drops_late_frames():
    conn = TTSConnection(OPTS)
    a = conn.start_context("a")
    conn.push_text(a, "A long sentence.")
    conn.data_to_send()
    recv(conn, chunk(b"\x01\x00" * 4, ctx="a"), 0)
    cancel(conn, a)
    msg, close = sent(conn)
    assert msg["cancel_request"] is True and msg["context_id"] == "a"
    # a cancel only drops the buffer (continuations docs): the context is closed too
    assert close == {"context_id": "a", "context_close": True}
    late = recv(conn, chunk(b"\x09\x00" * 4, ctx="a"), 0)
    late += recv(conn, complete(ctx="a"), 0)
    assert late == []
    assert conn.stats.dropped_bytes == 8
    b = conn.start_context("b")
    conn.push_text(b, "Next.")
    ev = recv(conn, chunk(b"\x05\x00", rid="r9", ctx="b"), 0)
    assert audio_of(ev) == b"\x05\x00"


def test_cancel_without_echo_holds_the_next_context_until_the_cancelled_one_is_quiet():
    conn = TTSConnection(OPTS, cancel_quiet_s=0.3)
    a = conn.start_context("a")
    conn.push_text(a, "First.")
    recv(conn, chunk(b"\x01\x00", rid="ra"), 0)
    cancel(conn, a, now=1.0)
    b = conn.start_context("b")
    conn.push_text(b, "Second.")
    assert [m.get("cancel_request", False) for m in sent(conn)] == [False, True, False]
    assert conn.next_deadline() == pytest.approx(1.3)
    ev = recv(conn, chunk(b"\x09\x00", rid="ra"), 1.1)  # in flight for a
    ev += recv(conn, chunk(b"\x08\x00", rid="ra2"), 1.2)  # a's next release, unlabelled
    assert ev == []
    assert conn.next_deadline() == pytest.approx(1.5)
    assert poll(conn, 1.4) == [] and sent(conn) == []
    poll(conn, 1.5)
    assert [m["text"] for m in sent(conn)] == ["Second."]
    ev = recv(conn, chunk(b"\x02\x00", rid="rb"), 1.6)  # new request: b's
    assert audio_of(ev) == b"\x02\x00"
    assert all(e.context_id == "b" for e in ev if isinstance(e, AudioReceived))
    assert conn.next_deadline() is None


def test_cancel_during_first_audio_wait_never_leaks_into_the_next_context():
    """The cancel lands before any frame; the server's frames for it are still in flight,
    under a request id never seen: none of them may become the next context's audio."""
    conn = TTSConnection(OPTS, cancel_quiet_s=0.3)
    a = conn.start_context("a")
    conn.push_text(a, "Cancelled turn.")
    end_input(conn, a)
    cancel(conn, a, now=0.0)
    b = conn.start_context("b")
    conn.push_text(b, "Next turn.")
    end_input(conn, b)
    events = []
    for i in range(3):  # a's audio, in flight
        events += recv(conn, chunk(b"\xaa\xaa", rid="ra"), 0.05 + i * 0.01)
    events += recv(conn, complete(rid="ra"), 0.1)
    events += poll(conn, 0.4)
    assert [m.get("text") for m in sent(conn) if not m.get("cancel_request")][-2:] == [
        "Next turn.",
        "",
    ]
    events += recv(conn, chunk(b"\x02\x00", rid="rb"), 0.5)
    assert audio_of(events, "b") == b"\x02\x00"
    assert b"\xaa" not in audio_of(events)


def test_cancel_with_echoed_ids_sends_the_next_context_at_once():
    conn = TTSConnection(OPTS)
    a = conn.start_context("a")
    conn.push_text(a, "First.")
    recv(conn, chunk(b"\x01\x00", rid="ra", ctx="a"), 0)
    cancel(conn, a, now=1.0)
    b = conn.start_context("b")
    conn.push_text(b, "Second.")
    assert [m.get("text") for m in sent(conn)] == ["First.", "", None, "Second."]
    ev = recv(conn, chunk(b"\x09\x00", rid="ra", ctx="a"), 1.1)
    ev += recv(conn, chunk(b"\x02\x00", rid="rb", ctx="b"), 1.1)
    assert audio_of(ev) == b"\x02\x00"


def test_a_timed_out_context_fails_and_retires_the_socket():
    conn = TTSConnection(OPTS)
    a = conn.start_context("a")
    conn.push_text(a, "Hello.")
    end_input(conn, a)
    (event,) = time_out(conn, a)
    assert isinstance(event, ContextFailed)
    assert event.error.kind is ErrorKind.TIMEOUT and event.error.retryable
    assert not conn.reusable
    assert time_out(conn, a) == []


@pytest.mark.parametrize("start", [1e308, float("inf"), -1.0, 4000.0, "1", None])
def test_an_implausible_word_time_is_ignored_and_the_context_goes_on(start):
    conn = TTSConnection(OPTS)
    a = conn.start_context("a")
    conn.push_text(a, "Hi there.")
    end_input(conn, a)
    frame = json.dumps(
        {
            "status": "word_timestamp",
            "context_id": "a",
            "data": {"word": "Hi", "start": start, "end": 0.2},
        }
    )
    (ignored,) = recv(conn, frame, 0)
    assert isinstance(ignored, FrameIgnored) and "implausible" in ignored.reason
    ev = recv(conn, chunk(b"\x01\x00", ctx="a"), 0)
    assert audio_of(ev) == b"\x01\x00"
    assert conn.context_state(a) is ContextState.CLOSING


def test_text_with_a_lone_surrogate_is_refused_before_anything_is_sent():
    conn = TTSConnection(OPTS)
    a = conn.start_context("a")
    with pytest.raises(ValueError, match="lone surrogate U\\+D800 at index 3"):
        conn.push_text(a, "Hi \ud800 there")
    with pytest.raises(ValueError, match="lone surrogate"):
        conn.synthesize("\udfff")
    assert sent(conn) == []


def test_new_request_before_next_context_is_sent_belongs_to_the_cancelled_one():
    conn = TTSConnection(OPTS)
    a = conn.start_context("a")
    conn.push_text(a, "First. Second.")
    recv(conn, chunk(b"\x01\x00", rid="ra1"), 0)
    cancel(conn, a)
    assert recv(conn, chunk(b"\x09\x00", rid="ra2"), 0) == []
    assert conn.stats.dropped_frames == 1


def test_complete_ends_at_once_when_every_word_is_timed():
    conn = TTSConnection(OPTS)
    a = conn.start_context("a")
    conn.push_text(a, "Hi there.")
    end_input(conn, a)
    recv(conn, word("Hi", 0.0, 0.2, ctx="a"), 0)
    recv(conn, chunk(b"\x01\x00", ctx="a"), 0)
    recv(conn, word("there.", 0.25, 0.5, ctx="a"), 0)
    ev = recv(conn, complete(ctx="a"), 0)
    assert [type(e) for e in ev] == [ContextEnded]
    assert ev[0].reason == "complete"
    assert conn.next_deadline() is None


SECOND_OF_AUDIO = b"\x01\x00" * 24000


def test_complete_while_timed_words_are_missing_waits_for_the_next_release():
    """The server times this voice but has not timed "Two.": a slow next release (here
    0.5 s after the complete) is still this context's, never cut off."""
    conn = TTSConnection(OPTS, end_grace_s=0.3)
    a = conn.start_context("a")
    conn.push_text(a, "One. Two.")
    end_input(conn, a)
    recv(conn, word("One.", 0.0, 0.2, rid="r1", ctx="a"), 0)
    recv(conn, chunk(b"\x01\x00", rid="r1", ctx="a"), 0)
    assert recv(conn, complete(rid="r1", ctx="a"), 1.0) == []
    assert conn.next_deadline() == pytest.approx(1.0 + MISSING_WORDS_GRACE_S)
    assert poll(conn, 1.5) == []
    ev = recv(conn, chunk(b"\x02\x00", rid="r2", ctx="a"), 1.5)  # next release: no end
    assert audio_of(ev) == b"\x02\x00"
    assert conn.next_deadline() is None
    recv(conn, word("Two.", 0.0, 0.2, rid="r2", ctx="a"), 1.6)
    ended = recv(conn, complete(rid="r2", ctx="a"), 2.0)
    assert [(type(e), e.reason) for e in ended] == [(ContextEnded, "complete")]


def test_an_untimed_complete_ends_after_the_grace_once_the_audio_fits_the_text():
    conn = TTSConnection(OPTS, end_grace_s=0.3, words_for_end_detection=False)
    a = conn.start_context("a")
    conn.push_text(a, "One. Two.")
    end_input(conn, a)
    recv(conn, chunk(SECOND_OF_AUDIO, rid="r1", ctx="a"), 0)
    assert recv(conn, complete(rid="r1", ctx="a"), 1.0) == []
    assert conn.next_deadline() == pytest.approx(1.3)
    ended = poll(conn, 1.31)
    assert [(type(e), e.reason) for e in ended] == [(ContextEnded, "grace")]


@pytest.mark.parametrize("tail", [" 🙂", " —", "!!", " :)"])
def test_untimed_punctuation_after_the_last_word_gets_the_usual_wait(tail):
    """The server may still release trailing punctuation on its own, so the context is
    not ended at once; but no word is missing, so the wait is the short one."""
    conn = TTSConnection(OPTS, end_grace_s=0.3)
    a = conn.start_context("a")
    conn.push_text(a, f"Hi there{tail}")
    end_input(conn, a)
    recv(conn, word("Hi", 0.0, 0.2, ctx="a"), 0)
    recv(conn, word("there", 0.25, 0.5, ctx="a"), 0)
    recv(conn, chunk(SECOND_OF_AUDIO, ctx="a"), 0)
    assert recv(conn, complete(ctx="a"), 1.0) == []
    assert conn.next_deadline() == pytest.approx(1.3)


def test_a_late_frame_after_a_grace_end_is_counted_and_lengthens_the_grace():
    conn = TTSConnection(OPTS, end_grace_s=0.1, words_for_end_detection=False)
    a = conn.start_context("a")
    conn.push_text(a, "One.")
    end_input(conn, a)
    recv(conn, chunk(SECOND_OF_AUDIO, ctx="a"), 0)
    recv(conn, complete(ctx="a"), 0)
    assert isinstance(poll(conn, 0.2)[0], ContextEnded)
    assert recv(conn, chunk(b"\x02\x00", ctx="a"), 0.3) == []
    assert conn.stats.late_frames == 1
    assert conn.end_grace_s == pytest.approx(0.2)


def test_pause_inside_a_context_never_ends_it():
    conn = TTSConnection(OPTS, end_grace_s=0.1)
    a = conn.start_context("a")
    conn.push_text(a, "Long text.")
    end_input(conn, a)
    recv(conn, chunk(b"\x01\x00", ctx="a"), 0)
    assert conn.next_deadline() is None  # no complete yet: nothing to time out
    assert poll(conn, 100.0) == []
    ev = recv(conn, chunk(b"\x02\x00", ctx="a"), 101.0)
    assert audio_of(ev) == b"\x02\x00"


def test_socket_closed_after_complete_ends_the_context():
    conn = TTSConnection(OPTS, words_for_end_detection=False)
    a = conn.start_context("a")
    conn.push_text(a, "One.")
    end_input(conn, a)
    recv(conn, chunk(b"\x01\x00", ctx="a"), 0)
    recv(conn, complete(ctx="a"), 0)
    ev = lost(conn, 1000, "")
    assert [type(e) for e in ev] == [ContextEnded]
    assert not conn.reusable


def test_socket_closed_mid_context_fails_it_retryably():
    conn = TTSConnection(OPTS)
    a = conn.start_context("a")
    conn.push_text(a, "One.")
    recv(conn, chunk(b"\x01\x00", ctx="a"), 0)
    (ev,) = lost(conn, 1006, "reset")
    assert isinstance(ev, ContextFailed)
    assert ev.error.kind is ErrorKind.CONNECTION and ev.error.retryable
    assert ev.audio_received is True
    assert ev.text == "One."


def test_error_frame_fails_only_its_context():
    conn = TTSConnection(OPTS)
    a = conn.start_context("a")
    conn.push_text(a, "x")
    (ev,) = recv(
        conn, json.dumps({"status": "error", "message": "Invalid Voice ID", "context_id": "a"}), 0
    )
    assert isinstance(ev, ContextFailed)
    assert ev.error.message == "Invalid Voice ID (voice_id 'magnus' with model lightning_v3.1)"
    assert not ev.error.retryable
    assert ev.audio_received is False
    assert conn.reusable
    b = conn.start_context("b")
    conn.push_text(b, "y")
    assert conn.context_state(b) is ContextState.OPEN


def test_idle_timeout_notice_with_nothing_active():
    conn = TTSConnection(OPTS)
    (ev,) = recv(
        conn,
        json.dumps(
            {"status": "error", "message": "Connection timed out after 60 seconds of inactivity"}
        ),
        0,
    )
    assert isinstance(ev, ConnectionFailed)
    assert is_idle_timeout(ev.error)


def test_idle_timeout_ends_contexts_that_got_their_complete():
    conn = TTSConnection(OPTS, words_for_end_detection=False)
    a = conn.start_context("a")
    conn.push_text(a, "One.")
    end_input(conn, a)
    recv(conn, chunk(b"\x01\x00"), 0)
    recv(conn, complete(), 0)  # no echo, grace pending
    b = conn.start_context("b")
    conn.push_text(b, "Two.")  # held: a is unresolved
    idle = json.dumps(
        {"status": "error", "message": "Connection timed out after 1 seconds of inactivity"}
    )
    ev = recv(conn, idle, 0.1)
    assert [type(e) for e in ev] == [ContextEnded, ContextFailed, ConnectionFailed]
    assert ev[0].context_id == "a" and ev[0].reason == "idle after complete"
    assert ev[1].context_id == "b" and ev[1].error.retryable and not ev[1].audio_received
    assert not conn.reusable


def test_malformed_frame_fails_the_active_context_retryably():
    conn = TTSConnection(OPTS)
    a = conn.start_context("a")
    conn.push_text(a, "x")
    (ev,) = recv(conn, '{"status": "chunk", "data": {"audio"', 0)
    assert isinstance(ev, ContextFailed) and ev.error.retryable


def test_binary_and_unknown_frames_are_ignored_with_a_reason():
    conn = TTSConnection(OPTS)
    a = conn.start_context("a")
    conn.push_text(a, "x")
    (ev,) = recv(conn, b"\x00\x01", 0)
    assert isinstance(ev, FrameIgnored) and "binary" in ev.reason
    (ev,) = recv(conn, '{"status": "ping"}', 0)
    assert isinstance(ev, FrameIgnored) and "ping" in ev.reason
    assert conn.context_state(a) is ContextState.OPEN


def test_odd_bytes_are_carried_not_dropped():
    conn = TTSConnection(OPTS)
    a = conn.start_context("a")
    conn.push_text(a, "x")
    ev = recv(conn, chunk(b"\x01\x02\x03", ctx="a"), 0)
    ev += recv(conn, chunk(b"\x04", ctx="a"), 0)
    assert audio_of(ev) == b"\x01\x02\x03\x04"
    assert [e.sample_offset for e in ev if isinstance(e, AudioReceived)] == [0, 1]


def test_ulaw_output_is_decoded_to_pcm():
    from smallest_core.audio import ulaw_decode

    conn = TTSConnection(OPTS.with_changes(output_format="ulaw"))
    a = conn.start_context("a")
    conn.push_text(a, "x")
    ev = recv(conn, chunk(b"\x00\x7f\xff", ctx="a"), 0)
    assert audio_of(ev) == ulaw_decode(b"\x00\x7f\xff")


def test_words_are_placed_on_the_context_timeline_with_spacing():
    conn = TTSConnection(OPTS.with_changes(word_timestamps=True))
    a = conn.start_context("a")
    conn.push_text(a, "Hello  world. ")
    conn.push_text(a, "Again.")
    end_input(conn, a)
    ev = recv(conn, word("Hello", 0.0, 0.3, rid="r1", ctx="a"), 0)
    ev += recv(conn, chunk(b"\x00\x00" * 24000, rid="r1", ctx="a"), 0)  # 1 s of audio
    ev += recv(conn, word("world.", 0.4, 0.8, rid="r1", ctx="a"), 0)
    ev += recv(conn, word("Again.", 0.1, 0.5, rid="r2", ctx="a"), 0)  # clock restarted
    words = [e.word for e in ev if isinstance(e, WordReceived)]
    assert "".join(w.spaced for w in words) == "Hello  world. Again."
    assert [(w.start, w.end) for w in words] == [(0.0, 0.3), (0.4, 0.8), (1.1, 1.5)]


def test_empty_context_ends_without_sending():
    conn = TTSConnection(OPTS)
    a = conn.start_context("a")
    (ev,) = end_input(conn, a)
    assert isinstance(ev, ContextEnded) and ev.reason == "empty"
    assert conn.data_to_send() == []


def test_one_shot_synthesis_message():
    conn = TTSConnection(OPTS)
    ctx = conn.synthesize("Hello world.")
    (msg,) = sent(conn)
    assert msg["text"] == "Hello world." and "continue" not in msg
    assert msg["request_id"] == ctx
    ev = recv(conn, chunk(b"\x01\x00", rid="q", ext=ctx), 0)
    ev += recv(conn, word("Hello", 0, 0.1, rid="q"), 0)
    ev += recv(conn, word("world.", 0.1, 0.2, rid="q"), 0)
    ev += recv(conn, complete(rid="q"), 0)
    assert isinstance(ev[-1], ContextEnded)


def test_legacy_protocol():
    conn = TTSConnection(OPTS, protocol="legacy")
    a = conn.start_context()
    conn.push_text(a, "Hi ")
    conn.push_text(a, "there.")
    end_input(conn, a)
    msgs = sent(conn)
    assert [(m["continue"], m["flush"]) for m in msgs] == [
        (True, False),
        (True, False),
        (False, True),
    ]
    assert "context_id" not in msgs[0]
    recv(conn, chunk(b"\x01\x00"), 0)
    (ev,) = recv(conn, complete(), 0)
    assert isinstance(ev, ContextEnded)
    b = conn.start_context()
    conn.push_text(b, "x")
    cancel(conn, b)
    assert not conn.reusable  # no cancel message in the legacy protocol: close the socket


# -------------------------------------------------------------------- properties

frame_strategy = st.one_of(
    st.builds(
        chunk,
        st.binary(max_size=6),
        st.sampled_from(["r1", "r2", "r3"]),
        st.sampled_from([None, "a", "b", "zz"]),
    ),
    st.builds(
        word,
        st.sampled_from(["One.", "Two", "x", ""]),
        st.floats(0, 5),
        st.floats(0, 5),
        st.sampled_from(["r1", "r2"]),
        st.sampled_from([None, "a", "b"]),
    ),
    st.builds(complete, st.sampled_from(["r1", "r2", "r3"]), st.sampled_from([None, "a", "b"])),
    st.sampled_from(
        [
            '{"status":"error","message":"boom"}',
            '{"status":"error","error":{"message":"x","code":"y"}}',
            '{"status":"weird"}',
            '{"status":"chunk"',
            "[]",
            "",
        ]
    ),
    st.binary(max_size=4),
    st.text(max_size=20),
)
action = st.one_of(
    st.tuples(st.just("frame"), frame_strategy),
    st.tuples(st.just("cancel"), st.sampled_from(["a", "b"])),
    st.tuples(st.just("end"), st.sampled_from(["a", "b"])),
    st.tuples(st.just("poll"), st.floats(0, 10)),
    st.tuples(st.just("lost"), st.none()),
)


def apply(conn: TTSConnection, kind: str, arg, now: float):
    """Carry out one drawn action on ``conn``; its events."""
    if kind == "frame":
        return recv(conn, arg, now)
    if kind == "cancel":
        return cancel(conn, arg, now)
    if kind == "end":
        return end_input(conn, arg)
    if kind == "poll":
        return poll(conn, now + arg)
    return lost(conn, 1006, "x")


@settings(max_examples=300, deadline=None)
@given(st.lists(action, max_size=40))
def test_any_sequence_yields_events_and_no_audio_after_resolution(actions):
    conn = TTSConnection(OPTS, end_grace_s=0.5)
    for ctx in ("a", "b"):
        conn.start_context(ctx)
        conn.push_text(ctx, f"{ctx} One. Two")
    resolved: set[str] = set()
    delivered = 0
    now = 0.0
    for kind, arg in actions:
        now += 0.1
        events = apply(conn, kind, arg, now)
        if kind == "cancel":
            resolved.add(arg)
        conn.data_to_send()
        for e in events:
            if isinstance(e, AudioReceived):
                assert e.context_id not in resolved, "audio delivered after its context resolved"
                assert len(e.audio) % 2 == 0
                delivered += len(e.audio)
            elif isinstance(e, ContextEnded | ContextFailed):
                assert e.context_id not in resolved, "a context resolved twice"
                resolved.add(e.context_id)
        if conn.closed:
            break
    stats = [conn.context_stats(c) for c in ("a", "b")]
    assert delivered == sum(s.audio_bytes for s in stats if s)


def _odd_chunk(body: str, rid, ctx) -> str:
    msg = {"status": "chunk", "data": {"audio": body}, "request_id": rid, "context_id": ctx}
    return json.dumps({k: v for k, v in msg.items() if v != "omit"})


shortcut_frames = st.one_of(
    frame_strategy,
    st.builds(  # ordinary audio (even length): what the shortcut is for
        chunk,
        st.integers(1, 3).flatmap(lambda n: st.binary(min_size=2 * n, max_size=2 * n)),
        st.sampled_from(["r1", "r2", ""]),
        st.sampled_from(["a", "a", "b", "zz", None, None]),  # None: the documented no-echo
    ),
    st.builds(  # the documented service names the context in external_request_id
        chunk,
        st.just(b"\x01\x02\x03\x04"),
        st.sampled_from(["r1", "r2", ""]),
        st.sampled_from([None, "a", ""]),
        st.sampled_from(["a", "a", "b", "zz", None]),
    ),
    st.builds(
        _odd_chunk,
        st.sampled_from(["QUJD", "QUI=", "", "!!", "QUJDRA==", "QU JD"]),
        st.sampled_from(["r1", "", None, 7, "omit"]),
        st.sampled_from(["a", "b", "", None, 5, "omit"]),
    ),
    st.sampled_from(
        [
            '{"status":"chunk","data":{"audio":"QUJD","context_id":"b"},"request_id":"r1"}',
            '{"status":"chunk","audio":"QUJD","context_id":"a"}',
            '{"status":"chunk","data":[],"context_id":"a"}',
        ]
    ),
)


def _outcome(events):
    out = []
    for e in events:
        error = getattr(e, "error", None)
        fields = {k: getattr(e, k) for k in getattr(e, "__slots__", ()) if k != "error"}
        out.append((type(e).__name__, fields, None if error is None else str(error)))
    return out


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(st.tuples(st.just("frame"), shortcut_frames), action),
        max_size=40,
    ),
    st.sampled_from(["pcm", "ulaw"]),
)
def test_the_audio_shortcut_changes_nothing_but_speed(actions, fmt):
    conns = []
    for fast in (True, False):
        conn = TTSConnection(OPTS.with_changes(output_format=fmt), end_grace_s=0.5)
        conn._fast_path = fast
        for ctx in ("a", "b"):
            conn.start_context(ctx)
            conn.push_text(ctx, f"{ctx} One. Two")
        conns.append(conn)
    now = 0.0
    for kind, arg in actions:
        now += 0.1
        outcomes = []
        for conn in conns:
            events = apply(conn, kind, arg, now)
            outcomes.append((_outcome(events), conn.data_to_send(), conn.echoes_ids))
            graced = [c.grace_deadline for c in conn._contexts.values() if c.grace_deadline]
            due = [*graced, *conn._draining.values()]
            assert conn.next_deadline() == (min(due) if due else None)
        assert outcomes[0] == outcomes[1]
    fast, slow = conns
    assert fast.stats == slow.stats
    for ctx in ("a", "b"):
        assert fast.context_stats(ctx) == slow.context_stats(ctx)


def test_ordinary_audio_takes_the_shortcut():
    conn = TTSConnection(OPTS)
    conn.start_context("a")
    conn.push_text("a", "Hello")
    recv(conn, chunk(b"\x01\x02", ctx="a"), 0.0)
    conn._apply = None  # the general path would fail loudly from here on
    events = recv(conn, chunk(b"\x03\x04", ctx="a"), 0.0)
    assert events == [AudioReceived("a", b"\x03\x04", 1)]


def test_audio_routed_by_the_servers_request_id_takes_the_shortcut():
    """The documented service echoes no context_id: its ordinary audio is the common case."""
    conn = TTSConnection(OPTS)
    conn.start_context("a")
    conn.push_text("a", "Hello")
    recv(conn, chunk(b"\x01\x02", rid="r9"), 0.0)
    conn._apply = None  # the general path would fail loudly from here on
    events = recv(conn, chunk(b"\x03\x04", rid="r9"), 0.0)
    assert events == [AudioReceived("a", b"\x03\x04", 1)]
    assert not conn.echoes_ids


def test_audio_named_by_external_request_id_takes_the_shortcut():
    """What the documented service sends: the context in ``external_request_id``."""
    conn = TTSConnection(OPTS)
    conn.start_context("a")
    conn.push_text("a", "Hello")
    recv(conn, chunk(b"\x01\x02", rid="r9", ext="a"), 0.0)
    conn._apply = None  # the general path would fail loudly from here on
    events = recv(conn, chunk(b"\x03\x04", rid="r9", ext="a"), 0.0)
    assert events == [AudioReceived("a", b"\x03\x04", 1)]
    assert conn.echoes_ids


def test_held_contexts_go_as_soon_as_the_server_is_seen_to_echo_ids():
    conn = TTSConnection(OPTS)
    a = conn.start_context("a")
    conn.push_text(a, "First.")
    b = conn.start_context("b")
    conn.push_text(b, "Second.")
    assert [m["text"] for m in sent(conn)] == ["First."]  # b waits: routing by order
    recv(conn, chunk(b"\x01\x00", rid="ra", ext="a"), 0)
    assert [m["text"] for m in sent(conn)] == ["Second."]


def test_a_refused_voice_is_named_in_the_error():
    conn = TTSConnection(TTSOptions(voice_id="nosuchvoice", sample_rate=24000))
    a = conn.start_context("a")
    conn.push_text(a, "Hello.")
    frame = json.dumps({"status": "error", "message": "Invalid Voice ID", "context_id": "a"})
    (failed,) = recv(conn, frame, 0)
    assert isinstance(failed, ContextFailed)
    assert "'nosuchvoice'" in failed.error.message and "lightning_v3.1" in failed.error.message
    assert failed.error.kind is ErrorKind.INVALID_INPUT
