"""TTS request validation, synthesis dispatch and chunk encoding shared by WS and HTTP."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass
from typing import Any

from smallest_emulator import audio, codecs
from smallest_emulator.config import EmulatorConfig
from smallest_emulator.engines import deterministic
from smallest_emulator.engines.deterministic import Synthesis
from smallest_emulator.frames import enum_issue, zod_issue
from smallest_emulator.state import EmulatorState
from smallest_emulator.voices import (
    LEGACY_MODEL,
    PRO_MODEL,
    STANDARD_MODEL,
    TTS_MODELS,
    is_known_voice,
    voice_model,
)

TTS_OUTPUT_FORMATS = ["wav", "ulaw", "alaw", "pcm", "mp3"]
SAMPLE_RATES = [8000, 16000, 24000, 44100]
#: Legacy ``lightning`` (v1) body rules (§3.2): 8000-24000 Hz (default 24000), en | hi.
LEGACY_SAMPLE_RATES = [8000, 16000, 24000]
LEGACY_LANGUAGES = ["en", "hi"]
LANGUAGES = [
    "auto",
    "en",
    "hi",
    "mr",
    "kn",
    "ta",
    "bn",
    "gu",
    "te",
    "ml",
    "pa",
    "or",
    "es",
    "de",
    "fr",
    "it",
    "nl",
    "sv",
    "pt",
    "ru",
    "el",
    "fi",
    "no",
    "pl",
    "ar",
    "zh",
    "id",
    "ja",
    "ko",
    "ms",
    "tr",
    "vi",
]
_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.")


@dataclass
class TtsParams:
    """Validated per-message voice configuration."""

    voice_id: str
    model: str = STANDARD_MODEL
    sample_rate: int = 44100
    speed: float = 1.0
    language: str | None = None
    output_format: str = "pcm"
    word_timestamps: bool = False


def _valid_id(v: Any) -> bool:
    return isinstance(v, str) and 0 < len(v) <= 128 and set(v) <= _ID_CHARS


def _path_model(path_model: str) -> str:
    if path_model == "lightning":
        return LEGACY_MODEL
    return PRO_MODEL if path_model.endswith("-pro") else STANDARD_MODEL


def validate(
    msg: dict[str, Any],
    *,
    path_model: str | None = None,
    require_text: bool = True,
    accept_any_voice: bool = False,
) -> tuple[TtsParams | None, list[dict[str, Any]]]:
    """Validate a TTS body/message; returns params or zod-like issues (§8).

    ``model`` must use the body form (``lightning_v3.1`` / ``lightning_v3.1_pro``); on per-model
    routes (``path_model``) the path decides and the body's ``model`` is ignored. The legacy
    ``lightning`` route takes its own voices, rates and languages (§3.2).
    """
    issues: list[dict[str, Any]] = []
    model = msg.get("model", STANDARD_MODEL)
    if path_model is not None:
        model = _path_model(path_model)
    elif model not in TTS_MODELS:
        issues.append(enum_issue("model", model, list(TTS_MODELS)))
    legacy = model == LEGACY_MODEL
    voice = msg.get("voice_id")
    if not isinstance(voice, str) or not voice:
        issues.append(zod_issue("voice_id", "Required", code="invalid_type"))
    elif not accept_any_voice and not is_known_voice(voice, model):
        issues.append(zod_issue("voice_id", "Invalid Voice ID"))
    if require_text and not isinstance(msg.get("text"), str):
        issues.append(zod_issue("text", "Required", code="invalid_type"))
    rates = LEGACY_SAMPLE_RATES if legacy else SAMPLE_RATES
    rate = msg.get("sample_rate", 24000 if legacy else 44100)
    if rate not in rates or isinstance(rate, bool):
        issues.append(enum_issue("sample_rate", rate, rates))
    speed = msg.get("speed", 1.0)
    if not isinstance(speed, int | float) or isinstance(speed, bool) or not 0.5 <= speed <= 2.0:
        issues.append(zod_issue("speed", "Number must be between 0.5 and 2", code="too_big"))
    lang = msg.get("language")
    languages = LEGACY_LANGUAGES if legacy else LANGUAGES
    if lang is not None and lang not in languages:
        issues.append(enum_issue("language", lang, languages))
    fmt = msg.get("output_format", "pcm")
    if fmt not in TTS_OUTPUT_FORMATS:
        issues.append(enum_issue("output_format", fmt, TTS_OUTPUT_FORMATS))
    for key in ("request_id", "session_id", "context_id"):
        if key in msg and msg[key] is not None and not _valid_id(msg[key]):
            issues.append(zod_issue(key, f"Invalid {key}", code="invalid_string"))
    if issues:
        return None, issues
    return (
        TtsParams(
            voice_id=voice,  # type: ignore[arg-type]
            model=model,
            sample_rate=int(rate),
            speed=float(speed),
            language=lang,
            output_format=fmt,
            word_timestamps=bool(msg.get("word_timestamps", False)),
        ),
        [],
    )


_espeak_lock = asyncio.Lock()


async def synthesize(
    state: EmulatorState, cfg: EmulatorConfig, text: str, p: TtsParams, first_index: int = 0
) -> Synthesis:
    """Synthesize with the configured engine; registers deterministic keys for STT round trips."""
    mismatch = voice_model(p.voice_id) not in (None, p.model)
    if mismatch and cfg.voice_mismatch_empty:
        return Synthesis(b"", [], p.sample_rate, 0)
    if cfg.engine == "espeak":
        from smallest_emulator.engines import espeak

        async with _espeak_lock:
            return await asyncio.to_thread(
                espeak.synthesize, text, p.sample_rate, p.speed, first_index=first_index
            )
    syn = deterministic.synthesize(
        text, p.sample_rate, p.speed, voice_id=p.voice_id, first_index=first_index
    )
    if syn.words:
        state.registry[syn.key] = " ".join(w.word for w in syn.words)
    return syn


@dataclass
class EncodedChunk:
    """One outgoing audio chunk: encoded bytes, its base64, and the PCM sample range."""

    data: bytes
    b64: str
    start_sample: int
    end_sample: int


def encode_chunks(
    pcm: bytes, fmt: str, sample_rate: int, chunk_bytes: int = 1024, *, b64: bool = True
) -> list[EncodedChunk]:
    """Encode PCM into ~``chunk_bytes`` chunks of ``fmt`` (wav header on the first chunk)."""
    total = len(pcm) // 2
    if fmt == "mp3":
        data = codecs.encode_mp3(pcm, sample_rate)
        out = []
        n = max(1, (len(data) + chunk_bytes - 1) // chunk_bytes)
        for k in range(n):
            piece = data[k * chunk_bytes : (k + 1) * chunk_bytes]
            s0, s1 = total * k // n, total * (k + 1) // n
            out.append(EncodedChunk(piece, _b64(piece, b64), s0, s1))
        return out
    per = chunk_bytes if fmt in ("ulaw", "alaw") else max(1, chunk_bytes // 2)
    encoded: bytes = pcm
    if fmt in ("ulaw", "alaw"):
        encoded = audio.encode_g711(pcm, fmt)
    bps = 1 if fmt in ("ulaw", "alaw") else 2
    out = []
    for s0 in range(0, total, per):
        s1 = min(total, s0 + per)
        piece = encoded[s0 * bps : s1 * bps]
        out.append(EncodedChunk(piece, "", s0, s1))
    if fmt == "wav":
        header = audio.wav_header(len(pcm), sample_rate)
        if out:
            first = out[0]
            out[0] = EncodedChunk(header + first.data, "", first.start_sample, first.end_sample)
        else:
            out.append(EncodedChunk(header, "", 0, 0))
    if b64:
        for c in out:
            c.b64 = base64.b64encode(c.data).decode("ascii")
    return out


def _b64(data: bytes, on: bool) -> str:
    return base64.b64encode(data).decode("ascii") if on else ""


class Pacer:
    """Paces audio at ``speed`` x real time: one sleep per chunk at most (none when behind)."""

    def __init__(self, speed: float, sample_rate: int) -> None:
        self.factor = 0.0 if speed <= 0 or speed == float("inf") else 1.0 / (speed * sample_rate)
        self.loop = asyncio.get_running_loop()
        self.t0 = self.loop.time()
        self.offset = 0.0

    def pause(self, seconds: float) -> None:
        """Account for an injected pause so pacing does not try to catch up."""
        self.offset += seconds

    async def wait_until(self, samples: int) -> None:
        """Sleep until ``samples`` of audio are due; always yields to the loop."""
        if self.factor:
            delay = self.t0 + self.offset + samples * self.factor - self.loop.time()
            if delay > 0.002:
                await asyncio.sleep(delay)
                return
        await asyncio.sleep(0)
