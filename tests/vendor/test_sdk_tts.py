"""smallestai 5.14 (the vendor's SDK), unmodified, speaking through the emulator.

Hosts are chosen with the SDK's documented ``environment=SmallestAIEnvironment(...)``; the
HTTP client is passed as the documented ``httpx_client=`` so each test closes its sockets.
"""

from __future__ import annotations

import base64
import itertools
from typing import Any

import aiohttp
import pytest
from smallestai.core.api_error import ApiError
from smallestai.waves.errors import BadRequestError, UnauthorizedError
from smallestai.waves.tts.socket_client import AsyncTtsSocketClient
from smallestai.waves.tts.types import TtsRequestMessage, TtsResponseMessage
from vendor_kit import (
    BAD_KEY,
    KEY,
    RATE,
    TEXT,
    VOICE,
    async_sdk,
    decode_mp3,
    g711_matches,
    read_wav,
    sse_events,
    sync_sdk,
)

from smallest_emulator import Emulator, TtsRecord

FORMATS = ["pcm", "wav", "ulaw", "alaw", "mp3"]  # TtsRequestOutputFormat in SDK 5.14
MP3_FRAME = 1152  # samples; encoder delay and padding stay under four frames


def assert_audio(fmt: str, data: bytes, rec: TtsRecord) -> None:
    """``data`` is the record's PCM in ``fmt``, at the requested rate."""
    pcm = bytes(rec.pcm)
    assert pcm, "the emulator synthesized nothing"
    assert (rec.text, rec.voice_id, rec.output_format) == (TEXT, VOICE, fmt)
    if fmt == "pcm":
        assert data == pcm
    elif fmt == "wav":
        assert read_wav(data) == (RATE, 1, 2, pcm)
    elif fmt in ("ulaw", "alaw"):
        assert g711_matches(data, pcm, fmt)
    else:
        assert data[:3] == b"ID3" or (data[0] == 0xFF and data[1] & 0xE0 == 0xE0)
        rate, count = decode_mp3(data)
        assert rate == RATE
        assert len(pcm) // 2 <= count <= len(pcm) // 2 + 4 * MP3_FRAME


@pytest.mark.parametrize("fmt", FORMATS)
def test_sync_tts_every_format(emu_thread: Emulator, fmt: str) -> None:
    """Sync ``waves.synthesize_tts`` returns the synthesized audio in every output format."""
    with sync_sdk(emu_thread) as client:
        data = b"".join(
            client.waves.synthesize_tts(
                text=TEXT, voice_id=VOICE, sample_rate=RATE, output_format=fmt
            )
        )
    assert_audio(fmt, data, emu_thread.tts_log[-1])


@pytest.mark.parametrize("fmt", FORMATS)
async def test_async_tts_every_format(emu: Emulator, fmt: str) -> None:
    """Async ``waves.synthesize_tts`` returns the synthesized audio in every output format."""
    async with async_sdk(emu) as client:
        data = b"".join(
            [
                chunk
                async for chunk in client.waves.synthesize_tts(
                    text=TEXT, voice_id=VOICE, sample_rate=RATE, output_format=fmt
                )
            ]
        )
    assert_audio(fmt, data, emu.tts_log[-1])


async def test_sse_tts(emu: Emulator) -> None:
    """SSE ``POST /waves/v1/tts/live``: chunk events carry the audio, then the end marker.

    The SDK's ``synthesize_sse_tts`` cannot yield anything from any server: it parses each
    event's JSON data as ``str`` (pydantic rejects the object) and drops it with a warning.
    So the SDK call only proves the request is accepted; the answer itself is read raw with
    aiohttp and checked against the documented shape (``event: audio`` +
    ``{"audio","done":false,"status":"206"}`` ..., then ``{"status":"200","done":true}``).
    """
    async with async_sdk(emu) as client:
        async for _ in client.waves.synthesize_sse_tts(text=TEXT, voice_id=VOICE, sample_rate=RATE):
            pass
    assert (emu.tts_log[-1].transport, emu.tts_log[-1].text) == ("sse", TEXT)

    body = {"text": TEXT, "voice_id": VOICE, "sample_rate": RATE, "output_format": "pcm"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{emu.base_url}/waves/v1/tts/live",
            json=body,
            headers={"Authorization": f"Bearer {KEY}"},
        ) as resp,
    ):
        assert resp.status == 200
        assert resp.content_type == "text/event-stream"
        events = sse_events(await resp.text())
    *chunks, (_, last) = events
    assert chunks and all(name == "audio" for name, _ in chunks)
    assert all(data["done"] is False and data["status"] == "206" for _, data in chunks)
    assert last == {"status": "200", "done": True}
    audio = b"".join(base64.b64decode(data["audio"]) for _, data in chunks)
    assert audio == bytes(emu.tts_log[-1].pcm)


def test_sync_tts_bad_voice_raises_bad_request(emu_thread: Emulator) -> None:
    """An unknown voice is the SDK's ``BadRequestError`` (400, "Invalid Voice ID")."""
    with sync_sdk(emu_thread) as client, pytest.raises(BadRequestError) as err:
        b"".join(client.waves.synthesize_tts(text=TEXT, voice_id="no_such_voice"))
    assert err.value.status_code == 400
    assert "Invalid Voice ID" in str(err.value.body)


async def test_async_tts_bad_key_raises_unauthorized(emu: Emulator) -> None:
    """A rejected key is the SDK's ``UnauthorizedError`` (401)."""
    async with async_sdk(emu, BAD_KEY) as client:
        with pytest.raises(UnauthorizedError) as err:
            async for _ in client.waves.synthesize_tts(text=TEXT, voice_id=VOICE):
                pass
    assert err.value.status_code == 401


def _request(text: str, **extra: Any) -> TtsRequestMessage:
    return TtsRequestMessage(voice_id=VOICE, text=text, sample_rate=RATE, **extra)


async def _until_complete(socket: AsyncTtsSocketClient) -> list[TtsResponseMessage]:
    frames: list[TtsResponseMessage] = []
    async for frame in socket:
        frames.append(frame)
        if frame.status in ("complete", "error"):
            break
    return frames


def _audio(frames: list[TtsResponseMessage]) -> bytes:
    chunks = [f.data.audio if f.data else None for f in frames if f.status == "chunk"]
    assert None not in chunks
    return b"".join(base64.b64decode(c) for c in chunks if c)


def _words(frames: list[TtsResponseMessage]) -> list[tuple[int, str, float, float]]:
    """(id, word, start, end) of each ``word_timestamp`` frame, every field present."""
    words = []
    for f in frames:
        if f.status == "word_timestamp":
            d = f.data
            assert d and d.id is not None and d.word and d.start is not None and d.end is not None
            words.append((d.id, d.word, d.start, d.end))
    return words


async def test_ws_tts_audio_and_word_timestamps(emu: Emulator) -> None:
    """WS ``/waves/v1/tts/live``: typed chunk and word frames, then one ``complete``."""
    async with async_sdk(emu) as client, client.waves.tts.connect() as socket:
        await socket.synthesize_streaming_tts(_request(TEXT, word_timestamps=True))
        frames = await _until_complete(socket)
    assert all(isinstance(f, TtsResponseMessage) for f in frames)
    assert frames[-1].status == "complete"
    assert _audio(frames) == bytes(emu.tts_log[-1].pcm)
    words = _words(frames)
    assert [(i, word) for i, word, _, _ in words] == list(enumerate(TEXT.split()))
    assert all(0 <= start < end for _, _, start, end in words)
    assert all(a[3] <= b[2] for a, b in itertools.pairwise(words))
    assert all(f.session_id and f.request_id for f in frames)


async def test_ws_tts_reuses_socket(emu: Emulator) -> None:
    """Two requests on one socket (the reference docs' "reuse same connection")."""
    texts = ["First request here.", "And a second one."]
    audio = []
    async with async_sdk(emu) as client, client.waves.tts.connect() as socket:
        for text in texts:
            await socket.synthesize_streaming_tts(_request(text))
            audio.append(_audio(await _until_complete(socket)))
    assert [r.text for r in emu.tts_log] == texts
    assert audio == [bytes(r.pcm) for r in emu.tts_log]
    assert emu.ws_connections.opened_total == 1


async def test_ws_tts_streamed_text_with_flush(emu: Emulator) -> None:
    """Text in fragments with ``continue``, closed by ``flush``: all of it is spoken."""
    fragments = ["Hello there. ", "How are ", "you today?"]
    async with async_sdk(emu) as client, client.waves.tts.connect() as socket:
        for fragment in fragments:
            await socket.synthesize_streaming_tts(_request(fragment, continue_=True))
        await socket.synthesize_streaming_tts(_request("", flush=True))
        frames = await _until_complete(socket)
    assert frames[-1].status == "complete"
    assert "".join(emu.tts_log[-1].releases).split() == TEXT.split()
    assert _audio(frames) == bytes(emu.tts_log[-1].pcm)


async def test_ws_tts_server_closes_after_complete(emu: Emulator) -> None:
    """The SDK's reading (``complete`` is terminal, the server closes): iteration just ends."""
    key = f"{KEY};profile=close-after-complete"
    async with async_sdk(emu, key) as client, client.waves.tts.connect() as socket:
        await socket.synthesize_streaming_tts(_request(TEXT))
        frames = [frame async for frame in socket]
    assert frames[-1].status == "complete"
    assert _audio(frames) == bytes(emu.tts_log[-1].pcm)


def test_sync_ws_tts(emu_thread: Emulator) -> None:
    """The sync WebSocket client gets the same audio."""
    with sync_sdk(emu_thread) as client, client.waves.tts.connect() as socket:
        socket.synthesize_streaming_tts(_request(TEXT))
        frames = []
        for frame in socket:
            frames.append(frame)
            if frame.status == "complete":
                break
    assert _audio(frames) == bytes(emu_thread.tts_log[-1].pcm)


async def test_ws_tts_bad_voice_is_an_error_frame(emu: Emulator) -> None:
    """An unknown voice on the socket: an ``error`` frame naming the voice, no audio."""
    async with async_sdk(emu) as client, client.waves.tts.connect() as socket:
        await socket.synthesize_streaming_tts(
            TtsRequestMessage(voice_id="no_such_voice", text=TEXT, sample_rate=RATE)
        )
        frames = await _until_complete(socket)
    assert [f.status for f in frames] == ["error"]
    assert "Invalid Voice ID" in str(frames[0].model_dump())


async def test_ws_tts_bad_key_raises_api_error_401(emu: Emulator) -> None:
    """A rejected key fails the upgrade: the SDK's ``ApiError`` with status 401."""
    async with async_sdk(emu, BAD_KEY) as client:
        with pytest.raises(ApiError) as err:
            async with client.waves.tts.connect():
                pass
    assert err.value.status_code == 401
    assert emu.ws_connections.opened_total == 0


@pytest.mark.parametrize("rate", [8000, 16000, 24000, 44100, None])
async def test_tts_sample_rates(emu: Emulator, rate: int | None) -> None:
    """Every documented rate is honoured; omitted, the rate is the documented 44100."""
    extra = {} if rate is None else {"sample_rate": rate}
    async with async_sdk(emu) as client:
        data = b"".join(
            [
                c
                async for c in client.waves.synthesize_tts(
                    text=TEXT, voice_id=VOICE, output_format="wav", **extra
                )
            ]
        )
    assert read_wav(data) == (rate or 44100, 1, 2, bytes(emu.tts_log[-1].pcm))


async def test_tts_correlation_headers(emu: Emulator) -> None:
    """Sync TTS: ``audio/wav`` for any format, ids in headers, client ids echoed."""
    async with (
        async_sdk(emu) as client,
        client.waves.with_raw_response.synthesize_tts(
            text=TEXT, voice_id=VOICE, output_format="pcm", request_id="req-1", session_id="s.1"
        ) as raw,
    ):
        data = b"".join([c async for c in raw.data])
        headers = raw.headers
    assert data == bytes(emu.tts_log[-1].pcm)
    assert headers["content-type"] == "audio/wav"
    assert headers["x-request-id"] and headers["x-session-id"]
    assert (headers["x-external-request-id"], headers["x-external-session-id"]) == ("req-1", "s.1")


async def test_tts_unknown_output_format_is_bad_request(emu: Emulator) -> None:
    """``output_format="mulaw"``: ``BadRequestError`` with the live zod ``invalid_enum_value``."""
    async with async_sdk(emu) as client:
        with pytest.raises(BadRequestError) as err:
            async for _ in client.waves.synthesize_tts(
                text=TEXT, voice_id=VOICE, output_format="mulaw"
            ):
                pass
    (issue,) = err.value.body["error"]
    assert (issue["code"], issue["path"], issue["received"]) == (
        "invalid_enum_value",
        ["output_format"],
        "mulaw",
    )
    assert sorted(issue["options"]) == sorted(FORMATS)


async def test_pro_voice_on_pro_model(emu: Emulator) -> None:
    """``model="lightning_v3.1_pro"`` with a Pro voice, over HTTP and the WS (with words)."""
    async with async_sdk(emu) as client:
        data = b"".join(
            [
                c
                async for c in client.waves.synthesize_tts(
                    text=TEXT, voice_id="meher", model="lightning_v3.1_pro", sample_rate=RATE
                )
            ]
        )
        assert data == bytes(emu.tts_log[-1].pcm) and data
        async with client.waves.tts.connect() as socket:
            await socket.synthesize_streaming_tts(
                TtsRequestMessage(
                    voice_id="meher",
                    model="lightning_v3.1_pro",
                    text=TEXT,
                    sample_rate=RATE,
                    word_timestamps=True,
                )
            )
            frames = await _until_complete(socket)
    assert _audio(frames) == bytes(emu.tts_log[-1].pcm)
    assert [word for _, word, _, _ in _words(frames)] == TEXT.split()


async def test_ws_tts_echoes_client_ids(emu: Emulator) -> None:
    """Client ``request_id``/``session_id`` come back as ``external_*`` on every frame."""
    async with async_sdk(emu) as client, client.waves.tts.connect() as socket:
        await socket.synthesize_streaming_tts(_request(TEXT, request_id="r-1", session_id="s.1"))
        frames = await _until_complete(socket)
    assert frames[-1].status == "complete"
    assert {(f.external_request_id, f.external_session_id) for f in frames} == {("r-1", "s.1")}


async def test_ws_tts_idle_timeout(emu: Emulator) -> None:
    """``?timeout=1``: after 1 s of silence the documented timeout error, then the close."""
    query = {"additional_query_parameters": {"timeout": 1}}
    async with async_sdk(emu) as client, client.waves.tts.connect(request_options=query) as socket:
        await socket.synthesize_streaming_tts(_request("Hi."))
        frames = [frame async for frame in socket]  # ends when the server closes
    statuses = [f.status for f in frames]
    assert statuses[-2:] == ["complete", "error"]
    assert frames[-1].model_dump()["message"] == (
        "Connection timed out after 1 seconds of inactivity"
    )
