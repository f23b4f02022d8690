"""Frame builders: the exact bytes of every shape clients parse (key order included)."""

from __future__ import annotations

import pytest

from smallest_emulator import frames

IDS = {"session_id": "ws_1", "request_id": "task_1", "context_id": "c1"}


def test_tts_chunk_word_and_complete_bytes() -> None:
    assert frames.dumps(frames.tts_chunk(IDS, "AAA=")) == (
        '{"status":"chunk","session_id":"ws_1","request_id":"task_1","context_id":"c1",'
        '"data":{"audio":"AAA="}}'
    )
    word = frames.tts_word(IDS, 2, "hi", 0.1234567, 1 / 3)
    assert word["data"] == {"id": 2, "word": "hi", "start": 0.123457, "end": 0.333333}
    assert list(word) == ["status", "session_id", "request_id", "context_id", "data"]
    assert frames.dumps(frames.tts_complete(IDS, legacy=False)) == (
        '{"status":"complete","session_id":"ws_1","request_id":"task_1","context_id":"c1"}'
    )
    assert frames.dumps(frames.tts_complete(IDS, legacy=True)) == (
        '{"request_id":"task_1","status":"complete","context_id":"c1",'
        '"message":"All chunks sent","done":true}'
    )
    # the legacy complete always names a request, even before the first release
    assert frames.tts_complete({"session_id": "ws_1"}, legacy=True)["request_id"] is None


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        (1, '{"status":"error","message":"bad","session_id":"ws_1"}'),
        (2, '{"status":"error","error":{"message":"bad","code":"x"},"session_id":"ws_1"}'),
        (3, '{"status":"error","error":"bad","session_id":"ws_1"}'),
        (
            4,
            '{"status":"error","message":"bad","errors":[{"code":"x","path":[],'
            '"message":"bad"}],"session_id":"ws_1"}',
        ),
    ],
)
def test_tts_error_shapes(shape: int, expected: str) -> None:
    frame = frames.tts_ws_error(shape, "bad", code="x", session_id="ws_1", request_id=None)
    assert frames.dumps(frame) == expected
    assert frames.error_text(frame) == "bad"


@pytest.mark.parametrize(
    ("shape", "chunk", "end"),
    [
        (
            "current",
            'event: audio\ndata: {"audio":"QQ==","done":false,"status":"206"}\n\n',
            'data: {"status":"200","done":true}\n\n',
        ),
        ("docstring", 'data: {"audio":"QQ=="}\n\n', 'data: {"done":true}\n\n'),
        (
            "legacy",
            'data: {"request_id":"r","status":"chunk","data":{"audio":"QQ=="}}\n\n',
            'data: {"request_id":"r","status":"complete","message":"All chunks sent",'
            '"done":true}\n\n',
        ),
    ],
)
def test_sse_events(shape: str, chunk: str, end: str) -> None:
    assert frames.sse_chunk(shape, "QQ==", "r") == chunk
    assert frames.sse_end(shape, "r") == end


def test_sse_error_keeps_spaced_json() -> None:
    assert frames.sse_error("boom") == (
        'data: {"status": "error", "message": "boom", "errors": []}\n\n'
    )


def test_stt_frames() -> None:
    head = frames.stt_transcript("s", "hi", is_final=True, is_last=False, from_finalize=True)
    assert list(head) == [
        "type",
        "status",
        "session_id",
        "transcript",
        "transcription",
        "is_final",
        "is_last",
        "from_finalize",
    ]
    assert frames.stt_vad("speech_started", "s", 0.12345) == {
        "type": "speech_started",
        "session_id": "s",
        "timestamp": 0.123,
    }
    assert frames.stt_ws_error("plain", "m", "s") == {"error": "m"}
    assert frames.stt_ws_error("object", "m", "s") == {
        "status": "error",
        "error": {"message": "m", "code": "error"},
    }
    assert frames.stt_http_error(False, "m") == {
        "errors": "m",
        "status": "error",
        "message": "Error handling audio data",
    }
    assert frames.error_text(frames.stt_http_error(False, "m")) == "m"
    assert list(frames.stt_result("t", 1.23456, 10, unified=False)) == [
        "status",
        "transcription",
        "metadata",
        "audio_length",
    ]


def test_http_bodies() -> None:
    assert frames.retired_model_body("lightning")["recommended_endpoint"] == (
        "/waves/v1/lightning-v3.1/get_speech"
    )
    body = frames.retired_model_body("lightning", recommended="/waves/v1/tts/live")
    assert list(body) == ["status", "error_code", "message", "recommended_endpoint"]
    assert frames.tts_http_400(True, [frames.zod_issue("text", "Required")]) == {
        "error": "InvalidRequest",
        "message": "Required",
    }
    assert frames.unauthorized_body("pulse", missing=True) == {
        "message": "Unauthorized: No tokens provided"
    }
    assert frames.forced_status_body(503, "tts") == {
        "error": "ServiceUnavailable",
        "message": "Service temporarily unavailable",
    }
    assert frames.pronunciation_dict("d", [], created_at="now") == {
        "id": "d",
        "items": [],
        "createdAt": "now",
    }
