"""Lightning v4 live sessions: turns, binary audio attribution, barge-in, errors."""

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smallest_core import Endpoints
from smallest_core.errors import ProtocolMisuse
from smallest_core.lightning_v4 import (
    LightningV4Options,
    LightningV4Session,
    SessionFailed,
    SessionNotice,
    SessionReady,
    TurnAudio,
    TurnEnded,
    TurnFailed,
    TurnStarted,
    TurnState,
)


def ev(**fields) -> str:
    return json.dumps(fields)


def ready(session: LightningV4Session, rate: int = 48000) -> None:
    session.receive(ev(event="ready", session_id="s1"))
    session.receive(ev(event="ready", sample_rate=rate))


def sent(session: LightningV4Session) -> list[dict]:
    return [json.loads(m) for m in session.data_to_send()]


def audio_of(events, turn_id=None) -> bytes:
    return b"".join(
        e.audio for e in events if isinstance(e, TurnAudio) and turn_id in (None, e.turn_id)
    )


def test_options_travel_in_the_query_string():
    url = LightningV4Options(voice_id="rhodes", speed=1.2, content_filter="flag").url(
        Endpoints.resolve("https://api.smallest.ai")
    )
    assert url.startswith("wss://api.smallest.ai/waves/v1/lightning-v4/live?voice_id=rhodes")
    assert "sample_rate=48000" in url and "speed=1.2" in url
    assert "content_filter=true&content_filter_action=flag" in url


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    [("sample_rate", 22050, "44100"), ("language", "hi", "auto"), ("speed", 3.0, "2")],
)
def test_bad_options_name_the_allowed_values(field, value, allowed):
    with pytest.raises(ValueError, match=allowed):
        LightningV4Options(**{field: value})


def test_speak_waits_for_the_second_ready_then_a_turn_plays():
    session = LightningV4Session(LightningV4Options())
    tid = session.speak("Hello there.", turn_id="t1")
    assert sent(session) == []
    session.receive(ev(event="ready", session_id="s1"))
    assert sent(session) == [] and not session.ready
    session.receive(ev(event="ready", sample_rate=24000))
    assert sent(session) == [{"event": "speak", "turn_id": "t1", "text": "Hello there."}]
    assert session.sample_rate == 24000
    session.receive(ev(event="turn_start", turn_id=tid))
    session.receive(b"\x01\x00\x02")
    session.receive(b"\x00")
    session.receive(ev(event="turn_end", turn_id=tid))
    events = session.events()
    assert [type(e) for e in events] == [SessionReady, TurnStarted, TurnAudio, TurnAudio, TurnEnded]
    assert audio_of(events) == b"\x01\x00\x02\x00"
    assert events[-1] == TurnEnded("t1", False, 2)
    assert not session.busy


def test_interrupt_drops_the_interrupted_turns_audio_and_keeps_the_session():
    session = LightningV4Session(LightningV4Options())
    ready(session)
    a = session.speak("First turn.", turn_id="a")
    b = session.speak("Queued turn.", turn_id="b")
    session.receive(ev(event="turn_start", turn_id=a))
    session.receive(b"\x01\x00")
    session.interrupt()
    assert sent(session)[-1] == {"event": "interrupt"}
    session.receive(b"\xaa\xaa" * 10)  # in flight before the server saw the interrupt
    c = session.speak("Next turn.", turn_id="c")
    session.receive(ev(event="interrupted", turn_id=a))
    session.receive(ev(event="interrupted", turn_id=b))
    session.receive(ev(event="turn_start", turn_id=c))
    session.receive(b"\x02\x00")
    session.receive(ev(event="turn_end", turn_id=c))
    events = session.events()
    assert audio_of(events, a) == b"\x01\x00"
    assert audio_of(events, c) == b"\x02\x00"
    assert b"\xaa" not in audio_of(events)
    assert session.dropped_bytes == 20
    assert [e for e in events if isinstance(e, TurnEnded)] == [
        TurnEnded("a", True, 1),
        TurnEnded("b", True, 0),
        TurnEnded("c", False, 1),
    ]
    assert session.turn_state(b) is TurnState.INTERRUPTED


def test_interrupting_turns_the_server_never_got_sends_nothing():
    session = LightningV4Session(LightningV4Options())
    session.speak("Not yet sent.", turn_id="a")
    session.interrupt()
    ready(session)
    assert sent(session) == []


def test_user_turn_carries_words_and_wav_audio():
    session = LightningV4Session(LightningV4Options())
    ready(session)
    session.add_user_turn("What time is it?", b"\x01\x00" * 8, 16000)
    (msg,) = sent(session)
    wav = base64.b64decode(msg["audio"])
    assert msg["event"] == "user_audio" and msg["text"] == "What time is it?"
    assert wav[:4] == b"RIFF" and wav.endswith(b"\x01\x00" * 8)
    with pytest.raises(ValueError, match="both"):
        session.add_user_turn("words only", b"", 16000)


def test_a_refusal_before_ready_fails_the_session_and_its_turns():
    session = LightningV4Session(LightningV4Options())
    session.speak("Hello.", turn_id="a")
    session.receive(
        ev(status="error", error={"code": "model_access_denied", "message": "no access"})
    )
    events = session.events()
    assert isinstance(events[0], TurnFailed) and isinstance(events[-1], SessionFailed)
    err = events[-1].error
    assert err.code == "model_access_denied" and not err.retryable
    assert "no access" in err.message


def test_a_session_level_error_fails_only_its_turn():
    session = LightningV4Session(LightningV4Options())
    ready(session)
    session.speak("One.", turn_id="a")
    session.receive(ev(event="error", code="bad_frame", message="bad", turn_id="a"))
    session.receive(ev(event="error", code="bad_user_audio", message="no audio"))
    events = session.events()
    assert [type(e) for e in events] == [SessionReady, TurnFailed, SessionNotice]
    assert session.speak("Two.", turn_id="b") == "b"


def test_connection_loss_fails_unfinished_turns_and_closes():
    session = LightningV4Session(LightningV4Options())
    ready(session)
    session.speak("One.", turn_id="a")
    session.connection_lost(1011, "")
    (failed,) = [e for e in session.events() if isinstance(e, TurnFailed)]
    assert failed.error.retryable and "1011" in failed.error.message
    with pytest.raises(ProtocolMisuse, match="closed"):
        session.speak("Two.")


def test_empty_text_ends_at_once_and_surrogates_are_refused():
    session = LightningV4Session(LightningV4Options())
    ready(session)
    session.speak("  ", turn_id="a")
    assert session.events()[-1] == TurnEnded("a", False, 0)
    with pytest.raises(ValueError, match="surrogate"):
        session.speak("\ud800")


frames = st.one_of(
    st.binary(max_size=64),
    st.text(max_size=40),
    st.builds(
        lambda e, t: json.dumps({"event": e, "turn_id": t}),
        st.sampled_from(["ready", "turn_start", "turn_end", "interrupted", "error", "x"]),
        st.sampled_from(["a", "b", "zz", None]),
    ),
)


@given(st.lists(frames, max_size=30), st.booleans())
def test_any_frames_give_events_and_audio_only_for_started_turns(data, interrupt):
    session = LightningV4Session(LightningV4Options())
    session.speak("One.", turn_id="a")
    session.speak("Two.", turn_id="b")
    if interrupt:
        session.interrupt()
    for frame in data:
        session.receive(frame)
    started: set[str] = set()
    ended: set[str] = set()
    for event in session.events():
        if isinstance(event, TurnStarted):
            started.add(event.turn_id)
        elif isinstance(event, TurnAudio):
            assert event.turn_id in started and event.turn_id not in ended
            assert len(event.audio) % 2 == 0
        elif isinstance(event, TurnEnded | TurnFailed):
            ended.add(event.turn_id)
