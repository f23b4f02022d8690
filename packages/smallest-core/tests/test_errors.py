import pytest
from fixtures import frames, ids

from smallest_core.errors import (
    ErrorKind,
    SmallestError,
    connection_error,
    error_from_frame,
    error_from_http,
    parse_retry_after,
)
from smallest_core.tts_frames import decode_json_frame

HTTP_BODIES = frames("http_error_bodies")


@pytest.mark.parametrize("item", HTTP_BODIES, ids=ids(HTTP_BODIES))
def test_http_error_bodies_map_to_kind_message_and_retryable(item):
    expect = item["expect"]
    status = expect.get("status") or item.get("status")
    headers = {"Retry-After": str(expect["retry_after"])} if "retry_after" in expect else {}
    err = error_from_http(status, item["raw"].encode(), headers)
    assert isinstance(err, SmallestError)
    assert expect["message"] in err.message
    assert err.kind.value == expect["error_kind"]
    assert err.retryable is expect["retryable"]
    assert err.status_code == status
    if "retry_after" in expect:
        assert err.retry_after == pytest.approx(expect["retry_after"])


WS_ERRORS = [f for f in frames("tts_ws_server_frames") if f["expect"]["type"] == "error"]


@pytest.mark.parametrize("item", WS_ERRORS, ids=ids(WS_ERRORS))
def test_ws_error_frames_of_every_shape(item):
    err = error_from_frame(decode_json_frame(item["raw"]))
    assert item["expect"]["message"] in err.message
    assert err.kind.value == item["expect"]["error_kind"]
    assert err.retryable is item["expect"]["retryable"]


@pytest.mark.parametrize(
    ("status", "kind", "retryable"),
    [
        (400, ErrorKind.INVALID_INPUT, False),
        (401, ErrorKind.AUTH, False),
        (403, ErrorKind.AUTH, False),
        (408, ErrorKind.TIMEOUT, True),
        (410, ErrorKind.INVALID_INPUT, False),
        (413, ErrorKind.INVALID_INPUT, False),
        (429, ErrorKind.RATE_LIMIT, True),
        (500, ErrorKind.SERVER, True),
        (503, ErrorKind.SERVER, True),
    ],
)
def test_status_codes(status, kind, retryable):
    err = error_from_http(status, b"", {})
    assert err.kind is kind
    assert err.retryable is retryable
    assert err.message == f"HTTP {status}"


def test_retry_after_parsing():
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(" 0.5 ") == 0.5
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") is None
    assert parse_retry_after("-1") is None
    assert parse_retry_after(None) is None


def test_close_1008_is_a_rate_limit():
    err = connection_error("closed", close_code=1008)
    assert err.kind is ErrorKind.RATE_LIMIT
    assert err.retryable
    plain = connection_error("reset")
    assert plain.kind is ErrorKind.CONNECTION
    assert plain.retryable


def test_non_json_body_keeps_text():
    err = error_from_http(502, b"<html>Bad gateway</html>", {"x-request-id": "r1"})
    assert "Bad gateway" in err.message
    assert err.request_id == "r1"
    assert "HTTP" not in repr(err) or "502" in repr(err)


def test_a_message_repeated_in_the_errors_list_is_shown_once():
    frame = {
        "status": "error",
        "message": "Backend failed",
        "errors": [{"message": "Backend failed"}],
    }
    assert error_from_frame(frame).message == "Backend failed"
    frame["errors"].append({"message": "detail", "path": ["voice_id"]})
    assert error_from_frame(frame).message == "Backend failed: voice_id: detail"
