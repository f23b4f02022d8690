import base64
import json

import pytest
from fixtures import frames, ids
from hypothesis import given
from hypothesis import strategies as st

from smallest_core.errors import ProtocolError
from smallest_core.tts_frames import (
    ChunkFrame,
    CompleteFrame,
    ErrorFrame,
    UnknownFrame,
    WordFrame,
    parse_tts_frame,
)

SERVER_FRAMES = frames("tts_ws_server_frames")
KIND = {
    "audio": ChunkFrame,
    "word": WordFrame,
    "complete": CompleteFrame,
    "error": ErrorFrame,
    "unknown": UnknownFrame,
}


@pytest.mark.parametrize("item", SERVER_FRAMES, ids=ids(SERVER_FRAMES))
def test_every_documented_server_frame(item):
    expect = item["expect"]
    if expect["type"] == "malformed":
        with pytest.raises(ProtocolError):
            parse_tts_frame(item["raw"])
        return
    frame = parse_tts_frame(item["raw"])
    assert isinstance(frame, KIND[expect["type"]])
    if isinstance(frame, ChunkFrame):
        assert frame.audio == base64.b64decode(expect["audio_b64"])
    if isinstance(frame, WordFrame):
        assert (frame.word, frame.start, frame.end) == (
            expect["word"],
            expect["start"],
            expect["end"],
        )
    if isinstance(frame, ErrorFrame):
        assert expect["message"] in frame.error.message
        assert frame.error.retryable is expect["retryable"]
    for key in ("context_id", "request_id", "external_request_id"):
        if key in expect:
            assert getattr(frame.ids, key) == expect[key]


def test_chunk_with_bad_base64_is_a_protocol_error():
    with pytest.raises(ProtocolError):
        parse_tts_frame('{"status":"chunk","data":{"audio":"@@@"}}')


@pytest.mark.parametrize("start", ['"x"', "1e308", "-0.5", "NaN", "Infinity", "3600.5"])
def test_word_with_an_implausible_time_is_an_ignorable_frame(start):
    frame = parse_tts_frame(
        f'{{"status":"word_timestamp","data":{{"word":"a","start":{start},"end":1}}}}'
    )
    assert isinstance(frame, UnknownFrame)
    assert frame.status == "word_timestamp" and "implausible" in frame.reason


@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(allow_nan=True))
def test_a_parsed_word_always_has_bounded_times(start, end):
    msg = {"status": "word_timestamp", "data": {"word": "a", "start": start, "end": end}}
    frame = parse_tts_frame(json.dumps(msg))
    if isinstance(frame, WordFrame):
        assert 0.0 <= frame.start <= frame.end <= 3600.0
    else:
        assert isinstance(frame, UnknownFrame)


def test_deeply_nested_json_is_a_protocol_error():
    with pytest.raises(ProtocolError, match="not valid JSON"):
        parse_tts_frame("[" * 100_000)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
statuses = st.sampled_from(["chunk", "word_timestamp", "complete", "error", "other", None, 3])


@st.composite
def frame_like(draw):
    msg = draw(st.dictionaries(st.text(max_size=6), json_values, max_size=4))
    if draw(st.booleans()):
        msg["status"] = draw(statuses)
    if draw(st.booleans()):
        msg["data"] = draw(
            st.dictionaries(
                st.sampled_from(["audio", "word", "start", "end", "id"]), json_values, max_size=5
            )
        )
    return json.dumps(msg)


@given(st.one_of(st.text(max_size=200), frame_like()))
def test_any_text_is_a_frame_or_a_protocol_error(text):
    try:
        frame = parse_tts_frame(text)
    except ProtocolError:
        return
    assert isinstance(frame, ChunkFrame | WordFrame | CompleteFrame | ErrorFrame | UnknownFrame)
