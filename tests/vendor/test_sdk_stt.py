"""smallestai 5.14: pre-recorded (``POST /waves/v1/stt/``) and streaming (``/stt/live``) STT.

The emulator hears the N-th stretch of speech as the N-th scripted utterance (``transcript=``
in the key), so every transcript below is known before the audio is sent.
"""

from __future__ import annotations

import pytest
from smallestai.core.api_error import ApiError
from smallestai.waves.errors import BadRequestError, UnauthorizedError
from smallestai.waves.helpers import stream_speech_to_text
from smallestai.waves.speech_to_text.types import (
    CloseStream,
    FinalizeSignal,
    TranscriptionEvent,
)
from smallestai.waves.types import TranscriptionResponse
from vendor_kit import (
    BAD_KEY,
    KEY,
    STT_RATE,
    async_sdk,
    encode,
    silence,
    speech,
    sync_sdk,
    write_wav,
)

from smallest_emulator import Emulator

SAID = "book a table for two"
SCRIPTED = f"{KEY};transcript={SAID}"
CHUNK = STT_RATE // 10 * 2  # 100 ms of 16-bit mono


def _stream_query(**extra: str) -> dict[str, dict[str, str]]:
    query = {"model": "pulse", "language": "en", "sample_rate": str(STT_RATE)}
    return {"additional_query_parameters": {**query, **extra}}


@pytest.mark.parametrize("container", ["wav", "mp3", "flac", "ogg"])
async def test_transcribe_file(emu: Emulator, container: str) -> None:
    """``speech_to_text.transcribe``: the typed response carries the scripted transcript."""
    pcm = speech(1.0) + silence(0.5)
    body = write_wav(pcm) if container == "wav" else encode(pcm, container)
    async with async_sdk(emu, SCRIPTED) as client:
        result = await client.waves.speech_to_text.transcribe(
            model="pulse", language="en", request=body, word_timestamps=True
        )
    assert isinstance(result, TranscriptionResponse)
    assert (result.status, result.transcription) == ("success", SAID)
    assert [w.word for w in result.words or []] == SAID.split()
    spans = [(w.start, w.end) for w in result.words or []]
    assert all(s is not None and e is not None and 0 <= s < e for s, e in spans)
    assert result.metadata is not None
    assert result.metadata.duration == pytest.approx(1.5, abs=0.1)


async def test_transcribe_pulse_pro(emu: Emulator) -> None:
    """``model=pulse-pro``: the Pro response shape (language, request id, Pro metadata).

    Per the SDK's ``TranscriptionResponse``/``TranscriptionResponseMetadata``: Pro answers
    carry ``language``, ``request_id`` and ``processing_time_ms``/``rtfx``/``num_chunks``
    ("Pulse Pro only") and omit ``utterances`` ("Pulse Pro responses omit this field").
    """
    async with async_sdk(emu, SCRIPTED) as client:
        result = await client.waves.speech_to_text.transcribe(
            model="pulse-pro", language="en", request=write_wav(speech(1.0) + silence(0.5))
        )
    assert (result.status, result.transcription, result.language) == ("success", SAID, "en")
    assert result.request_id and result.utterances is None
    assert result.metadata is not None
    meta = result.metadata
    assert None not in (meta.processing_time_ms, meta.rtfx, meta.num_chunks)


def test_transcribe_sync_client(emu_thread: Emulator) -> None:
    """The sync client's ``transcribe`` gets the same typed answer."""
    with sync_sdk(emu_thread, SCRIPTED) as client:
        result = client.waves.speech_to_text.transcribe(
            model="pulse", language="en", request=write_wav(speech(1.0) + silence(0.5))
        )
    assert result.transcription == SAID


async def test_transcribe_bad_key(emu: Emulator) -> None:
    """A rejected key is the SDK's ``UnauthorizedError``."""
    async with async_sdk(emu, BAD_KEY) as client:
        with pytest.raises(UnauthorizedError):
            await client.waves.speech_to_text.transcribe(
                model="pulse", language="en", request=write_wav(speech(0.5))
            )


async def test_transcribe_unknown_model(emu: Emulator) -> None:
    """An unknown ``model`` is the SDK's ``BadRequestError`` (400)."""
    async with async_sdk(emu) as client:
        with pytest.raises(BadRequestError):
            await client.waves.speech_to_text.transcribe(
                model="pulse-nonexistent", language="en", request=write_wav(speech(0.5))
            )


async def test_stream_finalize_then_close(emu: Emulator) -> None:
    """Streaming: interims, a ``from_finalize`` final with the script, ``is_last`` on close."""
    audio = speech(1.0)
    async with (
        async_sdk(emu, SCRIPTED) as client,
        client.waves.speech_to_text.stream(request_options=_stream_query()) as socket,
    ):
        for i in range(0, len(audio), CHUNK):
            await socket.send_audio_chunk_out(audio[i : i + CHUNK])
        await socket.send_finalize_signal(FinalizeSignal(type="finalize"))
        await socket.send_close_stream(CloseStream(type="close_stream"))
        events = [event async for event in socket]
    assert all(isinstance(e, TranscriptionEvent) for e in events)
    interims = [e for e in events if not e.is_final]
    finals = [e for e in events if e.is_final]
    assert interims and all(SAID.startswith(e.transcript or "") for e in interims)
    assert finals[0].transcript == SAID and finals[0].from_finalize is True
    assert finals[0].language == "en"
    assert finals[-1].is_last is True
    assert all(not e.is_last for e in events[:-1])
    assert emu.stt_log[-1].audio_bytes == len(audio)


def test_stream_sync_client_typed_helper(emu_thread: Emulator) -> None:
    """The sync client through the SDK's typed ``stream_speech_to_text`` helper."""
    audio = speech(1.0)
    with (
        sync_sdk(emu_thread, SCRIPTED) as client,
        stream_speech_to_text(
            client, language="en", sample_rate=STT_RATE, word_timestamps=True
        ) as socket,
    ):
        for i in range(0, len(audio), CHUNK):
            socket.send_audio_chunk_out(audio[i : i + CHUNK])
        socket.send_finalize_signal(FinalizeSignal(type="finalize"))
        socket.send_close_stream(CloseStream(type="close_stream"))
        finals = [e for e in socket if e.is_final]
    assert finals[0].transcript == SAID
    assert [w.word for w in finals[0].words or []] == SAID.split()


async def test_stream_bad_key(emu: Emulator) -> None:
    """A rejected key fails the upgrade: ``ApiError`` 401."""
    async with async_sdk(emu, BAD_KEY) as client:
        with pytest.raises(ApiError) as err:
            async with client.waves.speech_to_text.stream(request_options=_stream_query()):
                pass
    assert err.value.status_code == 401


async def test_stream_pulse_pro_is_refused(emu: Emulator) -> None:
    """``model=pulse-pro`` has no streaming transport: 400 before the upgrade."""
    async with async_sdk(emu) as client:
        with pytest.raises(ApiError) as err:
            async with client.waves.speech_to_text.stream(
                request_options=_stream_query(model="pulse-pro")
            ):
                pass
    assert err.value.status_code == 400
    assert emu.ws_connections.opened_total == 0
