"""What a hostile server or a careless caller can send, and the bounded, typed answer."""

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smallest_core import (
    ApiKey,
    ErrorKind,
    ProtocolError,
    SmallestError,
    backoff,
    check_duration,
    check_text,
    decode_json,
    error_from_audio_response,
    redact,
    resolve_api_key,
    should_reconnect,
)
from smallest_core.errors import error_from_frame, error_from_http
from smallest_core.sse import SseParser

KEY = "sk_quoted_back_7f3a9c"


@pytest.fixture(autouse=True)
def _known_key():
    ApiKey(KEY)


# --------------------------------------------------------------------- the key


def test_a_key_the_server_quotes_back_is_in_no_error_text_or_body():
    body = json.dumps({"message": f"Invalid API key: {KEY}", "detail": {"got": [KEY]}})
    for err in (
        error_from_http(401, body.encode()),
        error_from_http(401, f"<html>bad key {KEY}</html>".encode()),
        error_from_frame({"status": "error", "message": f"key {KEY} is not entitled"}),
        SmallestError(f"x {KEY}", kind=ErrorKind.SERVER, body=[{"k": KEY}]),
    ):
        assert KEY not in str(err) and KEY not in repr(err) and KEY not in err.message
        assert KEY not in json.dumps(err.body) if not isinstance(err.body, str) else True
        assert KEY not in str(err.body)
        assert "***" in err.message


def test_redact_leaves_text_without_a_key_alone():
    assert redact("nothing to hide") == "nothing to hide"
    assert redact(f"a{KEY}b{KEY}") == "a***b***"


@pytest.mark.parametrize("bad", ["sk_abc\r\nX-Injected: 1", "sk_abc\ndef", "sk\tabc", "sk\x00c"])
def test_a_key_with_control_characters_is_refused(bad):
    with pytest.raises(ValueError, match="control characters"):
        ApiKey(bad)
    with pytest.raises(ValueError, match="control characters"):
        resolve_api_key(bad, "https://api.smallest.ai")


def test_error_bodies_may_be_any_bytes_like_object():
    for body in (bytearray(b'{"message":"nope"}'), memoryview(b'{"message":"nope"}')):
        assert error_from_http(403, body).message == "nope"


def test_surrounding_whitespace_is_still_trimmed():
    assert ApiKey("  sk_fine_key  \n").reveal() == "sk_fine_key"


# --------------------------------------------------------------------- bounds


def test_a_huge_server_message_becomes_a_short_exception_text():
    err = error_from_frame({"status": "error", "message": "x" * 1_000_000})
    assert len(str(err)) < 1100
    assert "more characters" in str(err)


def test_deeply_nested_bodies_are_typed_errors_never_recursion_errors():
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(ProtocolError, match="nested too deeply"):
        decode_json(deep)
    err = error_from_http(400, deep.encode())  # still an error with a readable text
    assert err.kind is ErrorKind.INVALID_INPUT and err.message.startswith("HTTP 400")


def test_oversized_json_is_refused_before_decoding():
    with pytest.raises(ProtocolError, match="over the"):
        decode_json("1" * 10, max_bytes=5)


@given(st.binary(max_size=300) | st.text(max_size=300))
def test_decode_json_raises_only_protocol_errors(data):
    try:
        decode_json(data)
    except ProtocolError:
        pass


def test_an_sse_event_that_never_ends_is_bounded():
    parser = SseParser(max_line_chars=1000)
    lines = b"data: " + b"a" * 50 + b"\n"
    for _ in range(19):
        assert parser.feed(lines) == []
    with pytest.raises(ProtocolError, match="without an end"):
        parser.feed(lines)


# --------------------------------------------------------------------- non-audio 200


@pytest.mark.parametrize(
    ("ctype", "body", "message", "kind"),
    [
        ("text/html; charset=utf-8", b"<html><h1>Bad gateway</h1></html>", "Bad gateway", None),
        ("application/json", b'{"message":"Invalid voice"}', "Invalid voice", "invalid_input"),
        ("text/plain", b"", "instead of audio", "protocol"),
    ],
)
def test_a_200_that_is_not_audio_is_an_error_with_the_body_message(ctype, body, message, kind):
    err = error_from_audio_response(ctype, body)
    assert err is not None and message in err.message
    assert err.status_code == 200
    if kind:
        assert err.kind.value == kind


@pytest.mark.parametrize("ctype", ["audio/wav", "audio/mpeg", "application/octet-stream", None])
def test_audio_content_types_are_audio(ctype):
    # the sync route labels raw PCM audio/wav too: the body is never sniffed
    assert error_from_audio_response(ctype, b"{not json") is None


# --------------------------------------------------------------------- caller input


@pytest.mark.parametrize("value", [math.nan, math.inf, -1.0, 0, "3", True])
def test_bad_durations_are_refused_naming_the_range(value):
    with pytest.raises(ValueError, match=r"timeout must be a finite number of seconds > 0"):
        check_duration("timeout", value)


def test_durations_within_range_pass():
    assert check_duration("t", 0, allow_zero=True) == 0.0
    assert check_duration("t", 2) == 2.0
    with pytest.raises(ValueError, match="<= 5"):
        check_duration("t", 6, maximum=5)


def test_lone_surrogates_are_refused_and_other_text_passes():
    assert check_text("héllo 🙂") == "héllo 🙂"
    with pytest.raises(ValueError, match="U\\+DC80 at index 2"):
        check_text("ab\udc80")


# --------------------------------------------------------------------- retry policy


def test_backoff_doubles_and_is_capped():
    assert [backoff(n) for n in range(1, 8)] == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 10.0]
    assert backoff(100) == 10.0


def test_rate_limits_wait_at_least_the_servers_word_or_a_second():
    limited = SmallestError("busy", kind=ErrorKind.RATE_LIMIT)
    assert backoff(1, error=limited) == 1.0
    told = SmallestError("busy", kind=ErrorKind.RATE_LIMIT, retry_after=3.0)
    assert backoff(1, error=told) == 3.0
    with pytest.raises(ValueError):
        backoff(0)


def test_reconnects_are_bounded_and_only_for_retryable_errors():
    dropped = SmallestError("reset", kind=ErrorKind.CONNECTION)
    refused = SmallestError("bad key", kind=ErrorKind.AUTH)
    assert should_reconnect(dropped, 1) and should_reconnect(dropped, 6)
    assert not should_reconnect(dropped, 7)
    assert not should_reconnect(refused, 1)


def test_a_key_cut_short_in_a_truncated_line_is_redacted_too():
    line = f'< TEXT \'{{"message": "key {KEY[:14]}...\' [96 bytes]'
    assert KEY[:8] not in redact(line)
    assert redact(line).startswith('< TEXT \'{"message": "key ***')


@given(st.text(max_size=60))
def test_redaction_never_leaves_the_start_of_a_key(noise):
    assert KEY[:8] not in redact(noise + KEY[: len(noise) % len(KEY) + 8] + noise)
