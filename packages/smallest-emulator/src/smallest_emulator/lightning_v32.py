"""Lightning v3.2 sync synthesis: ``POST /waves/v1/lightning-v3.2/get_speech``.

Shaped as ``lightning-v3.2-openapi.yaml``: the v3.1 body plus per-utterance affect
(``emotion``, ``pitch``, ``volume``, ``prosody``, ``accent``, ``instruction``), its own
voices (v3.1 voices are refused), ``en``/``hi``/``auto``, and an ``Accept`` header that
must name an audio type (the docs warn that omitting it can return an empty response,
and so it does here). The affect a request carried is kept on its record; ``volume``
scales the audio so a change is audible in the bytes.
"""

from __future__ import annotations

import uuid
from array import array
from typing import Any

from aiohttp import web

from smallest_emulator.config import EmulatorConfig
from smallest_emulator.frames import zod_issue
from smallest_emulator.records import TtsRecord
from smallest_emulator.state import BODY_KEY, CFG_KEY, CONN_KEY, LOG_KEY, STATE_KEY, EmulatorState
from smallest_emulator.tts_common import TtsParams, encode_chunks, synthesize
from smallest_emulator.voices import is_clone_id, is_known_voice

V32_MODEL = "lightning_v3.2"
_CHOICES: dict[str, tuple[str, ...]] = {
    "emotion": ("neutral", "sad", "happy", "angry"),
    "pitch": ("low", "mid", "high"),
    "volume": ("silent", "low", "normal", "high"),
    "prosody": ("normal", "monotone", "expressive"),
    "language": ("en", "hi", "auto"),
    "output_format": ("pcm", "wav", "mp3", "ulaw", "alaw"),
}
_SAMPLE_RATES = (8000, 16000, 24000, 44100)
_AUDIO_ACCEPT = ("audio/wav", "audio/mpeg", "audio/pcm", "audio/basic")
_VOLUME_GAIN = {"silent": 0.01, "low": 0.5, "normal": 1.0, "high": 1.0}
AFFECT_FIELDS = ("emotion", "pitch", "volume", "prosody", "accent", "instruction")


def body_issues(body: dict[str, Any], cfg: EmulatorConfig) -> list[dict[str, Any]]:
    """Validation issues of a v3.2 body (checked by the middleware, ``checks.v32_body``)."""
    issues: list[dict[str, Any]] = []
    text, voice = body.get("text"), body.get("voice_id")
    if not isinstance(text, str) or not text.strip():
        issues.append(zod_issue("text", "Required", code="invalid_type"))
    elif len(text) > 8000:
        issues.append(zod_issue("text", "String must contain at most 8000 character(s)"))
    if not isinstance(voice, str) or not voice:
        issues.append(zod_issue("voice_id", "Required", code="invalid_type"))
    elif is_known_voice(voice) and not is_clone_id(voice) and not cfg.accept_any_voice:
        issues.append(zod_issue("voice_id", "Invalid Voice ID: v3.1 voices are not v3.2 voices"))
    for name, allowed in _CHOICES.items():
        value = body.get(name)
        if value is not None and value not in allowed:
            options = " | ".join(f"'{a}'" for a in allowed)
            issues.append(
                zod_issue(name, f"Invalid enum value. Expected {options}, received '{value}'")
            )
    rate = body.get("sample_rate", 44100)
    if rate not in _SAMPLE_RATES:
        issues.append(zod_issue("sample_rate", f"Invalid sample rate {rate!r}"))
    speed = body.get("speed", 1.0)
    if isinstance(speed, bool) or not isinstance(speed, int | float) or not 0.5 <= speed <= 2:
        issues.append(zod_issue("speed", "Number must be between 0.5 and 2"))
    for name in ("accent", "instruction"):
        if name in body and not isinstance(body[name], str):
            issues.append(zod_issue(name, "Expected string", code="invalid_type"))
    return issues


def _scaled(pcm: bytes, gain: float) -> bytes:
    if gain == 1.0:
        return pcm
    samples = array("h")
    samples.frombytes(pcm)
    return array("h", (int(s * gain) for s in samples)).tobytes()


async def lightning_v32_speech(request: web.Request) -> web.StreamResponse:
    """Synthesize one utterance with its affect; the audio is the whole body."""
    state: EmulatorState = request.app[STATE_KEY]
    cfg: EmulatorConfig = request[CFG_KEY]
    body: dict[str, Any] = request[BODY_KEY]
    accept = request.headers.get("Accept", "")
    if not any(kind in accept for kind in _AUDIO_ACCEPT):
        request[LOG_KEY] = "no audio Accept header: empty response"
        return web.Response(status=200, body=b"", content_type="application/octet-stream")
    params = TtsParams(
        voice_id=body["voice_id"],
        model=V32_MODEL,
        sample_rate=int(body.get("sample_rate", 44100)),
        speed=float(body.get("speed", 1.0)),
        language=body.get("language", "auto"),
        output_format=body.get("output_format", "pcm"),
    )
    syn = await synthesize(state, cfg, body["text"], params)
    pcm = _scaled(syn.pcm, _VOLUME_GAIN[body.get("volume", "normal")])
    affect = {name: body[name] for name in AFFECT_FIELDS if name in body}
    record = TtsRecord(
        transport="http",
        connection_id=request[CONN_KEY],
        context_id=None,
        sample_rate=params.sample_rate,
        output_format=params.output_format,
        voice_id=params.voice_id,
        text=body["text"],
        affect=affect,
    )
    request_id = uuid.uuid4().hex
    record.request_ids.append(request_id)
    record.releases.append(body["text"])
    record.pcm.extend(pcm)
    chunks = encode_chunks(
        pcm, params.output_format, params.sample_rate, cfg.chunk_bytes, b64=False
    )
    data = b"".join(c.data for c in chunks)
    record.bytes_sent = len(data)
    record.chunks_sent = len(chunks)
    record.done = True
    state.tts_log.append(record)
    request[LOG_KEY] = f"voice={params.voice_id} affect={affect} bytes={len(data)}"
    return web.Response(
        status=200, body=data, headers={"Content-Type": "audio/wav", "X-Request-Id": request_id}
    )
