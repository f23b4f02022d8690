"""Tests for smallest_core.sse: WHATWG SSE parsing and TTS SSE frame decoding."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smallest_core.errors import ProtocolError
from smallest_core.sse import (
    SseAudio,
    SseDone,
    SseError,
    SseEvent,
    SseParser,
    TtsSseDecoder,
    TtsSseItem,
)


def parse(data: bytes, *, dispatch_partial: bool = False) -> list[SseEvent]:
    parser = SseParser()
    return parser.feed(data) + parser.flush(dispatch_partial=dispatch_partial)


def parse_split(chunks: list[bytes]) -> list[SseEvent]:
    parser = SseParser()
    events: list[SseEvent] = []
    for chunk in chunks:
        events += parser.feed(chunk)
    return events + parser.flush()


def splits(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(data)) for c in cuts})
    out, prev = [], 0
    for p in [*points, len(data)]:
        out.append(data[prev:p])
        prev = p
    return out


# --------------------------------------------------------------------------- SseParser


def test_basic_event() -> None:
    assert parse(b"event: audio\ndata: hello\n\n") == [SseEvent("audio", "hello", None)]


def test_default_event_type_and_multiline_data() -> None:
    assert parse(b"data: a\ndata:b\ndata:  c\n\n") == [SseEvent("message", "a\nb\n c")]


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"])
def test_line_endings(eol: bytes) -> None:
    body = eol.join([b"data: 1", b"", b"event: x", b"data: 2", b"", b""])
    assert parse(body) == [SseEvent("message", "1"), SseEvent("x", "2")]


def test_mixed_line_endings_and_split_crlf() -> None:
    body = b"data: 1\r\n\r\ndata: 2\r\rdata: 3\n\n"
    expected = [SseEvent("message", "1"), SseEvent("message", "2"), SseEvent("message", "3")]
    assert parse(body) == expected
    for cut in range(len(body) + 1):
        assert parse_split([body[:cut], body[cut:]]) == expected


def test_cr_then_lf_in_next_feed_is_one_line_end() -> None:
    parser = SseParser()
    assert parser.feed(b"data: a\r") == []
    assert parser.feed(b"\n") == []  # not a blank line: the \n completes \r\n
    assert parser.feed(b"\r\n") == [SseEvent("message", "a")]


def test_comments_and_unknown_fields_ignored() -> None:
    body = b": keep-alive\nfoo: bar\ndata\ndata: x\n:comment\n\n"
    assert parse(body) == [SseEvent("message", "\nx")]


def test_field_without_colon_and_empty_value() -> None:
    assert parse(b"data\n\n") == [SseEvent("message", "")]
    assert parse(b"data:\n\n") == [SseEvent("message", "")]


def test_event_without_data_is_not_dispatched() -> None:
    assert parse(b"event: audio\n\n:only comment\n\n") == []


def test_id_persists_and_resets() -> None:
    body = b"id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\nid: bad\x00id\ndata: d\n\n"
    assert parse(body) == [
        SseEvent("message", "a", "7"),
        SseEvent("message", "b", "7"),
        SseEvent("message", "c", ""),
        SseEvent("message", "d", ""),
    ]


def test_retry() -> None:
    parser = SseParser()
    parser.feed(b"retry: 1500\n\nretry: 12x\n\nretry: \xc2\xb2\n\n")
    assert parser.retry == 1500


def test_bom_stripped_only_at_start() -> None:
    bom = "\ufeff".encode()
    assert parse(bom + b"data: x\n\n") == [SseEvent("message", "x")]
    assert parse_split([bom[:1], bom[1:] + b"da", b"ta: y\n\n"]) == [SseEvent("message", "y")]
    assert parse(b"data: " + bom + b"\n\n") == [SseEvent("message", "\ufeff")]


def test_utf8_split_inside_sequence() -> None:
    body = "data: héllo 你好 😀\n\n".encode()
    for cut in range(len(body) + 1):
        assert parse_split([body[:cut], body[cut:]]) == [SseEvent("message", "héllo 你好 😀")]


def test_invalid_utf8_is_replaced() -> None:
    assert parse(b"data: \xff\xfe\n\n") == [SseEvent("message", "\ufffd\ufffd")]


def test_unterminated_event_discarded_unless_lenient() -> None:
    assert parse(b"data: x\n") == []
    assert parse(b"data: x") == []
    assert parse(b"data: x", dispatch_partial=True) == [SseEvent("message", "x")]
    assert parse(b"data: x\n", dispatch_partial=True) == [SseEvent("message", "x")]


def test_line_length_limit() -> None:
    parser = SseParser(max_line_chars=10)
    with pytest.raises(ProtocolError):
        parser.feed(b"data: 0123456789")
    parser = SseParser(max_line_chars=10)
    with pytest.raises(ProtocolError):
        parser.feed(b"data: 0123456789\n")


def test_long_line_fed_bytewise_is_linear() -> None:
    parser = SseParser()
    payload = b"data: " + b"A" * 200_000
    for i in range(0, len(payload), 3):
        assert parser.feed(payload[i : i + 3]) == []
    assert parser.feed(b"\n\n") == [SseEvent("message", "A" * 200_000)]


@settings(max_examples=300)
@given(st.binary(max_size=400), st.lists(st.integers(0, 400), max_size=10))
def test_any_bytes_any_split_events_or_protocol_error(data: bytes, cuts: list[int]) -> None:
    try:
        one_shot = parse(data)
    except ProtocolError:
        return
    assert all(isinstance(e, SseEvent) for e in one_shot)
    assert parse_split(splits(data, cuts)) == one_shot


_line_chars = st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",))
sse_line = st.one_of(
    # (a stream is UTF-8 bytes: lone surrogates cannot occur in one)
    st.builds(lambda v: f"data:{v}", st.text(alphabet=_line_chars)),
    st.builds(lambda v: f"event: {v}", st.sampled_from(["audio", "x", ""])),
    st.builds(lambda v: f"id: {v}", st.text(alphabet=_line_chars, max_size=5)),
    st.just(""),
    st.just(": comment"),
    st.just("retry: 10"),
)


@settings(max_examples=300)
@given(
    st.lists(sse_line, max_size=20),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.lists(st.integers(0, 2000), max_size=15),
)
def test_valid_stream_any_split_identical(lines: list[str], eol: str, cuts: list[int]) -> None:
    body = (eol.join(lines) + eol + eol).encode()
    assert parse_split(splits(body, cuts)) == parse(body)
    assert parse_split([body[i : i + 1] for i in range(len(body))]) == parse(body)


# --------------------------------------------------------------------------- TtsSseDecoder


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def frame(obj: object, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(obj)}\n\n".encode()


def decode(body: bytes) -> list[TtsSseItem]:
    decoder = TtsSseDecoder()
    return decoder.feed(body) + decoder.flush()


def test_current_flat_shape() -> None:
    body = (
        frame({"audio": b64(b"\x01\x02"), "done": False, "status": "206"}, "audio")
        + frame({"audio": b64(b"\x03\x04"), "done": False, "status": "206"}, "audio")
        + frame({"status": "200", "done": True})
    )
    decoder = TtsSseDecoder()
    items = decoder.feed(body)
    assert items == [SseAudio(b"\x01\x02"), SseAudio(b"\x03\x04"), SseDone()]
    assert decoder.done


def test_older_docstring_shape() -> None:
    body = frame({"audio": b64(b"abc")}) + frame({"done": True})
    assert decode(body) == [SseAudio(b"abc"), SseDone()]


def test_legacy_shape() -> None:
    end = {"request_id": "r1", "status": "complete", "message": "All chunks sent", "done": True}
    body = frame({"request_id": "r1", "status": "chunk", "data": {"audio": b64(b"xyz")}})
    body += frame(end)
    assert decode(body) == [SseAudio(b"xyz"), SseDone()]


def test_legacy_error_shape() -> None:
    raw = {"status": "error", "message": "Invalid voice", "errors": [{"message": "voice_id"}]}
    assert decode(frame(raw)) == [SseError("Invalid voice", raw)]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"status": "400", "error": "bad text"}, "bad text"),
        ({"status": 500, "message": "boom"}, "boom"),
        ({"error": {"message": "nested", "code": 1}}, "nested"),
        ({"status": "error", "errors": [{"message": "a"}, "b"]}, "a; b"),
        ({"status": "error"}, "unknown error"),
    ],
)
def test_error_variants(raw: dict[str, object], message: str) -> None:
    assert decode(frame(raw)) == [SseError(message, raw)]


def test_error_event_with_plain_text() -> None:
    assert decode(b"event: error\ndata: rate limited\n\n") == [SseError("rate limited", {})]


def test_audio_and_done_in_one_frame() -> None:
    assert decode(frame({"audio": b64(b"z"), "done": True})) == [SseAudio(b"z"), SseDone()]


def test_empty_or_null_audio_and_keepalives_yield_nothing() -> None:
    body = frame({"audio": "", "done": False}) + frame({"audio": None}) + frame({"status": "206"})
    assert decode(body + b": ping\n\n") == []


def test_unpadded_base64_accepted() -> None:
    assert decode(b'data: {"audio": "YWI"}\n\n') == [SseAudio(b"ab")]


@pytest.mark.parametrize(
    "body",
    [
        b"data: not json\n\n",
        b"data: [1, 2]\n\n",
        b'data: {"audio": "!!!!"}\n\n',
        b'data: {"audio": 12}\n\n',
        b'data: {"audio": "YWJj\xc3\xa9"}\n\n',
        b'data: {"done": tr\n\n',
    ],
)
def test_malformed_frames_raise(body: bytes) -> None:
    with pytest.raises(ProtocolError):
        decode(body)


def test_unterminated_final_frame_still_decoded() -> None:
    decoder = TtsSseDecoder()
    assert decoder.feed(frame({"audio": b64(b"q")}) + b'data: {"status":"200","done":true}') == [
        SseAudio(b"q")
    ]
    assert decoder.flush() == [SseDone()]


def test_truncated_final_frame_raises_on_flush() -> None:
    decoder = TtsSseDecoder()
    decoder.feed(b'data: {"audio": "YW')
    with pytest.raises(ProtocolError):
        decoder.flush()


@st.composite
def tts_streams(draw: st.DrawFn) -> tuple[bytes, list[TtsSseItem]]:
    chunks = draw(st.lists(st.binary(min_size=1, max_size=40), max_size=8))
    shape = draw(st.sampled_from(["flat", "old", "legacy"]))
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    lines: list[str] = []
    for c in chunks:
        if shape == "flat":
            payload = {"audio": b64(c), "done": False, "status": "206"}
            lines += ["event: audio", "data: " + json.dumps(payload), ""]
        elif shape == "old":
            lines += ["data: " + json.dumps({"audio": b64(c)}), ""]
        else:
            lines += ["data: " + json.dumps({"status": "chunk", "data": {"audio": b64(c)}}), ""]
        if draw(st.booleans()):
            lines += [": keepalive", ""]
    lines += ["data: " + json.dumps({"status": "200", "done": True}), "", ""]
    expected: list[TtsSseItem] = [SseAudio(c) for c in chunks]
    return eol.join(lines).encode(), [*expected, SseDone()]


@settings(max_examples=200)
@given(tts_streams(), st.lists(st.integers(0, 3000), max_size=20))
def test_tts_stream_any_split(stream: tuple[bytes, list[TtsSseItem]], cuts: list[int]) -> None:
    body, expected = stream
    decoder = TtsSseDecoder()
    items: list[TtsSseItem] = []
    for chunk in splits(body, cuts):
        items += decoder.feed(chunk)
    assert items + decoder.flush() == expected


@settings(max_examples=300)
@given(st.binary(max_size=300), st.lists(st.integers(0, 300), max_size=8))
def test_tts_decoder_any_bytes_items_or_protocol_error(data: bytes, cuts: list[int]) -> None:
    decoder = TtsSseDecoder()
    try:
        for chunk in splits(b"data: " + data, cuts):
            decoder.feed(chunk)
        decoder.flush()
    except ProtocolError:
        pass


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["audio", "done", "status", "data", "message", "error", "errors"]),
            inner,
            max_size=4,
        )
    ),
    max_leaves=10,
)


@settings(max_examples=300)
@given(json_values)
def test_tts_decoder_any_json_items_or_protocol_error(obj: object) -> None:
    try:
        items = decode(frame(obj))
    except ProtocolError:
        return
    assert all(isinstance(i, SseAudio | SseDone | SseError) for i in items)
