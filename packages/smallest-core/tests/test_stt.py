import json

import pytest
from fixtures import frames, ids
from hypothesis import given
from hypothesis import strategies as st

from smallest_core import (
    AudioChunker,
    Pong,
    SpeechEnded,
    SpeechStarted,
    STTError,
    STTIgnored,
    STTOptions,
    STTStreamState,
    Transcript,
)
from smallest_core.errors import ProtocolError
from smallest_core.stt import parse_batch_response, parse_stt_frame

STT_FRAMES = frames("stt_ws_server_frames")
KIND = {
    "transcript": Transcript,
    "speech_started": SpeechStarted,
    "speech_ended": SpeechEnded,
    "pong": Pong,
    "error": STTError,
    "unknown": STTIgnored,
}


@pytest.mark.parametrize("item", STT_FRAMES, ids=ids(STT_FRAMES))
def test_every_documented_stt_frame(item):
    expect = item["expect"]
    if expect["type"] == "malformed":
        with pytest.raises(ProtocolError):
            parse_stt_frame(item["raw"])
        return
    event = parse_stt_frame(item["raw"])
    assert isinstance(event, KIND[expect["type"]])
    if isinstance(event, Transcript):
        assert event.text == expect["text"]
        assert (event.is_final, event.is_last, event.from_finalize) == (
            expect["is_final"],
            expect["is_last"],
            expect["from_finalize"],
        )
        assert event.language == expect["language"]
        assert [w.text for w in event.words] == [w["word"] for w in expect["words"]]
        for got, want in zip(event.words, expect["words"], strict=True):
            assert (got.start, got.end) == (want["start"], want["end"])
            if "speaker" in want:
                assert got.speaker == want["speaker"]
    if isinstance(event, SpeechStarted | SpeechEnded):
        assert event.timestamp == expect["timestamp"]
    if isinstance(event, STTError):
        assert expect["message"] in event.error.message
        assert event.error.retryable is expect["retryable"]


@given(st.text(max_size=120))
def test_any_text_is_an_event_or_a_protocol_error(text):
    try:
        parse_stt_frame(text)
    except ProtocolError:
        pass


@given(st.lists(st.binary(max_size=5000), max_size=20))
def test_chunker_emits_exact_frames_and_keeps_every_byte(pieces):
    chunker = AudioChunker(16000, frame_ms=50)
    assert chunker.frame_bytes == 1600
    out = []
    for p in pieces:
        out += chunker.push(p)
    assert all(len(f) == 1600 for f in out)
    assert b"".join(out) + chunker.flush() == b"".join(pieces)


def _final(words, **extra):
    return json.dumps(
        {
            "type": "transcription",
            "transcript": "x",
            "is_final": True,
            "words": [{"word": w, "start": s, "end": e} for w, s, e in words],
            **extra,
        }
    )


def test_times_stay_continuous_across_reconnects():
    state = STTStreamState(STTOptions(sample_rate=16000))
    state.connection_started()
    state.audio_sent(32000 * 3)  # 3 s
    state.receive(_final([("a", 1.0, 1.2)]))
    (first,) = state.events()
    assert isinstance(first, Transcript) and first.words[0].start == 1.0
    state.connection_started()  # settings change: new socket, its clock restarts
    state.audio_sent(32000)
    state.receive(_final([("b", 0.5, 0.7)]))
    (second,) = state.events()
    assert isinstance(second, Transcript)
    assert (second.words[0].start, second.words[0].end) == (3.5, 3.7)
    assert state.audio_seconds_sent == 4.0


def test_finalize_and_close_stream_bookkeeping():
    state = STTStreamState(STTOptions())
    state.connection_started()
    assert state.finalize(0.0) is None
    assert state.data_to_send() == ['{"type":"finalize"}']
    assert state.finalize_pending == 1
    state.receive(_final([], from_finalize=True))
    assert state.finalize_pending == 0
    assert state.close_stream(0.0) is None
    assert state.data_to_send() == ['{"type":"close_stream"}']
    assert not state.finished
    state.receive(_final([], is_last=True))
    assert state.finished
    assert state.receive("not json") is None
    *_, bad = state.events()
    assert isinstance(bad, STTError)
    state.connection_started()  # a reconnect starts a fresh connection of the same stream
    assert not state.finished and not state.close_requested
    state.sent(0.0)
    state.poll(state.keepalive_interval_s or 0.0)
    assert state.data_to_send() == ['{"type":"keepalive"}']


def test_batch_response_and_errors():
    body = json.dumps(
        {
            "status": "success",
            "transcription": "hi there",
            "words": [{"word": "hi", "start": 0.1, "end": 0.3}],
            "metadata": {"duration": 1.5},
        }
    ).encode()
    result = parse_batch_response(200, body)
    assert result.text == "hi there" and result.duration == 1.5
    assert result.words[0].text == "hi"
    with pytest.raises(Exception) as info:
        parse_batch_response(
            400,
            b'{"errors":"Audio data too large","status":"error",'
            b'"message":"Error handling audio data"}',
        )
    assert "Audio data too large" in str(info.value)


def test_the_keepalive_is_due_an_interval_after_the_last_send() -> None:
    state = STTStreamState(STTOptions(), keepalive_interval_s=5.0)
    state.sent(10.0)
    assert state.keepalive_at() == 15.0
    state.sent(12.5)  # any send (audio or control) postpones it
    assert state.keepalive_at() == 17.5
