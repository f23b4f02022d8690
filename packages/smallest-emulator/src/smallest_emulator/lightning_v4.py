"""Lightning v4 live sessions: ``WS /waves/v1/lightning-v4/live`` (beta, gated per account).

The protocol as the upstream framework integrations use it (protocol notes §4.6):
options in the query string; ``ready`` twice (admitted with ``session_id``, then attached
with the negotiated ``sample_rate``); ``speak {turn_id, text}`` answered by
``turn_start``, raw PCM in binary frames and ``turn_end``, one turn at a time in order;
``interrupt`` stops the turn speaking and retires the queued ones, each answered by
``interrupted`` (after up to ``cancel_inflight_chunks`` frames already in flight);
``user_audio {text, audio}`` (a base64 WAV) is kept as conversation context; ``end``
closes the session. Session errors (``bad_frame``, ``bad_user_audio``) leave it open;
connect-time refusals (``model_access_denied``, ``invalid_voice``) close it.

Emulator switches: ``v4_access=false`` refuses the account; ``accept_any_voice``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import uuid
import wave
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from smallest_emulator import frames
from smallest_emulator.config import EmulatorConfig
from smallest_emulator.records import TtsRecord
from smallest_emulator.state import (
    CFG_KEY,
    CONN_KEY,
    LOG_KEY,
    STATE_KEY,
    V4_REFUSAL_KEY,
    EmulatorState,
)
from smallest_emulator.tts_common import Pacer, TtsParams, synthesize

V4_MODEL = "lightning_v4"
V4_VOICES = ("brannock", "rhodes")
V4_SAMPLE_RATES = (8000, 16000, 24000, 44100, 48000)
V4_LANGUAGES = ("en", "auto")


@dataclass
class _Turn:
    turn_id: str
    text: str
    record: TtsRecord
    interrupted: bool = False


@dataclass
class _Session:
    ws: web.WebSocketResponse
    cfg: EmulatorConfig
    state: EmulatorState
    conn_id: str
    params: TtsParams
    queue: asyncio.Queue[_Turn] = field(default_factory=asyncio.Queue)
    current: _Turn | None = None
    context: list[str] = field(default_factory=list)
    """Transcripts of the caller's turns received as ``user_audio``."""
    turns: int = 0


def query_problem(query: Any) -> tuple[int, str, str] | None:
    """(HTTP status or 0 for an in-socket refusal, code, message) for a bad query."""
    try:
        rate = int(query.get("sample_rate", "48000"))
        speed = float(query.get("speed", "1"))
    except ValueError:
        return 400, "invalid_query", "sample_rate and speed must be numbers"
    if not 0.5 <= speed <= 2.0:
        return 400, "invalid_query", "speed must be within 0.5-2.0"
    if rate not in V4_SAMPLE_RATES:
        return 0, "invalid_query", f"sample_rate must be one of {list(V4_SAMPLE_RATES)}"
    if query.get("language", "en") not in V4_LANGUAGES:
        return 0, "invalid_query", "language must be en or auto"
    if query.get("output_format", "pcm") != "pcm":
        return 0, "invalid_query", "output_format must be pcm"
    return None


def _account_refusal(cfg: EmulatorConfig, voice: str) -> tuple[str, str] | None:
    """(code, message) when the account or the voice is refused at connect."""
    if not cfg.v4_access:
        return ("model_access_denied", "this account has no Lightning v4 access")
    if voice not in V4_VOICES and not cfg.accept_any_voice:
        return ("invalid_voice", f"unknown Lightning v4 voice {voice!r}")
    return None


async def lightning_v4_live(request: web.Request) -> web.StreamResponse:
    """One v4 live session."""
    state: EmulatorState = request.app[STATE_KEY]
    cfg: EmulatorConfig = request[CFG_KEY]
    ws = web.WebSocketResponse(autoping=True, max_msg_size=16 * 1024 * 1024)
    await ws.prepare(request)
    state.open_sockets.add(ws)
    state.ws_connections.opened("lightning-v4")
    try:
        voice = request.query.get("voice_id", "brannock")
        refusal = request[V4_REFUSAL_KEY] or _account_refusal(cfg, voice)
        if refusal is not None:
            code, message = refusal
            await ws.send_json(frames.v4_refusal(code, message))
            await ws.close(code=1008, message=code.encode())
            request[LOG_KEY] = f"v4 refused reason={code!r}"
            return ws
        params = TtsParams(
            voice_id=voice,
            model=V4_MODEL,
            sample_rate=int(request.query.get("sample_rate", "48000")),
            speed=float(request.query.get("speed", "1")),
            language=request.query.get("language", "en"),
        )
        session = _Session(ws, cfg, state, request[CONN_KEY], params)
        await ws.send_json(frames.v4_ready(session_id=f"v4_{uuid.uuid4().hex[:12]}"))
        await ws.send_json(frames.v4_ready(sample_rate=params.sample_rate))
        worker = asyncio.create_task(_speak_turns(session))
        try:
            await _read(session)
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await worker
        request[LOG_KEY] = f"v4 turns={session.turns} context={len(session.context)}"
        return ws
    finally:
        state.open_sockets.discard(ws)
        state.ws_connections.closed("lightning-v4")


async def _read(session: _Session) -> None:
    ws = session.ws
    async for msg in ws:
        if msg.type is not WSMsgType.TEXT:
            await _session_error(session, "bad_frame", "binary frames are not accepted")
            continue
        try:
            data = json.loads(msg.data)
        except ValueError:
            await _session_error(session, "bad_frame", "frame is not JSON")
            continue
        event = data.get("event") if isinstance(data, dict) else None
        if event == "speak":
            await _on_speak(session, data)
        elif event == "interrupt":
            await _on_interrupt(session)
        elif event == "user_audio":
            await _on_user_audio(session, data)
        elif event == "end":
            await ws.close()
            return
        else:
            await _session_error(session, "bad_frame", f"unknown event {str(event)[:40]!r}")


async def _session_error(session: _Session, code: str, message: str) -> None:
    with contextlib.suppress(ConnectionError):
        await session.ws.send_json(frames.v4_error(code, message))


async def _on_speak(session: _Session, data: dict[str, Any]) -> None:
    turn_id, text = data.get("turn_id"), data.get("text")
    if not isinstance(turn_id, str) or not isinstance(text, str) or not text.strip():
        await _session_error(session, "bad_frame", "speak needs a turn_id and text")
        return
    record = TtsRecord(
        transport="v4",
        connection_id=session.conn_id,
        context_id=turn_id,
        sample_rate=session.params.sample_rate,
        voice_id=session.params.voice_id,
        text=text,
    )
    record.releases.append(text)
    session.state.tts_log.append(record)
    session.queue.put_nowait(_Turn(turn_id, text, record))


async def _on_interrupt(session: _Session) -> None:
    retired: list[_Turn] = []
    while not session.queue.empty():
        retired.append(session.queue.get_nowait())
    if session.current is not None:
        session.current.interrupted = True  # the worker answers it after in-flight frames
    for turn in retired:
        turn.record.cancelled = True
        await session.ws.send_json(frames.v4_turn("interrupted", turn.turn_id))


async def _on_user_audio(session: _Session, data: dict[str, Any]) -> None:
    text, audio = data.get("text"), data.get("audio")
    try:
        raw = base64.b64decode(audio, validate=True) if isinstance(audio, str) else b""
        with wave.open(io.BytesIO(raw)) as wav:
            frames = wav.getnframes()
    except (ValueError, wave.Error, EOFError):
        frames = 0
    if not isinstance(text, str) or not text.strip() or frames == 0:
        await _session_error(
            session, "bad_user_audio", "user_audio needs the caller's words and WAV audio"
        )
        return
    session.context.append(text)


async def _speak_turns(session: _Session) -> None:
    cfg, ws = session.cfg, session.ws
    while True:
        turn = await session.queue.get()
        session.current = turn
        session.turns += 1
        try:
            await ws.send_json(frames.v4_turn("turn_start", turn.turn_id))
            if cfg.ttfb_ms > 0:
                await asyncio.sleep(cfg.ttfb_ms / 1000)
            syn = await synthesize(session.state, cfg, turn.text, session.params)
            pacer = Pacer(cfg.speed, session.params.sample_rate)
            step = max(2, cfg.chunk_bytes - cfg.chunk_bytes % 2)
            budget = cfg.cancel_inflight_chunks
            for start in range(0, len(syn.pcm), step):
                if turn.interrupted:
                    if budget <= 0:
                        break
                    budget -= 1
                piece = syn.pcm[start : start + step]
                await ws.send_bytes(piece)
                turn.record.pcm.extend(piece)
                turn.record.bytes_sent += len(piece)
                turn.record.chunks_sent += 1
                await pacer.wait_until((start + len(piece)) // 2)
            if turn.interrupted:
                turn.record.cancelled = True
                await ws.send_json(frames.v4_turn("interrupted", turn.turn_id))
            else:
                turn.record.done = True
                await ws.send_json(frames.v4_turn("turn_end", turn.turn_id))
        except ConnectionError:
            return
        finally:
            session.current = None
