"""TTS WebSocket protocol (§4.1-§4.5, §12.1): contexts, continuations, cancel, completes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from smallest_emulator.config import EmulatorConfig
from smallest_emulator.errors import error_text, tts_ws_error
from smallest_emulator.records import TtsRecord, WordRecord
from smallest_emulator.state import EmulatorState
from smallest_emulator.tts_common import (
    Pacer,
    TtsParams,
    encode_chunks,
    synthesize,
    validate,
    words_enabled,
)

_SENTENCE_END = re.compile(r"[.!?](?=\s)")


@dataclass
class Context:
    """Server-side state of one client context (or legacy/one-shot utterance)."""

    key: str | None
    record: TtsRecord
    params: TtsParams
    buffer: str = ""
    closing: bool = False
    cancelled: bool = False
    failed: bool = False
    cancel_budget: int = 0
    timer: asyncio.TimerHandle | None = None
    word_index: int = 0
    context_samples: int = 0
    chunks: int = 0
    paused: bool = False
    backoff_ms: int = 4000
    max_buffer_delay_ms: int = 3000
    external_request_id: str | None = None
    external_session_id: str | None = None
    last_request_id: str | None = None
    completed: bool = False
    generation: int = 0
    hold_until_flush: bool = False


@dataclass
class Job:
    """A release (text to synthesize) or a cancel acknowledgement."""

    ctx: Context
    text: str
    last: bool
    kind: str = "release"
    params: TtsParams | None = None
    generation: int = 0


@dataclass
class _Once:
    fired: set[str] = field(default_factory=set)


class TtsWsSession:
    """One TTS WebSocket connection."""

    def __init__(
        self,
        state: EmulatorState,
        ws: web.WebSocketResponse,
        request: web.Request,
        cfg: EmulatorConfig,
        conn_id: str,
        idle_timeout: float,
        path_model: str | None,
    ) -> None:
        self.state, self.ws, self.request, self.cfg = state, ws, request, cfg
        self.conn_id = conn_id
        self.session_id = f"ws_{uuid.uuid4().hex[:12]}"
        self.idle_timeout = idle_timeout
        self.path_model = path_model
        self.contexts: dict[str | None, Context] = {}
        self.queue: asyncio.Queue[Job] = asyncio.Queue()
        self.current: Job | None = None
        self.chunks_sent = 0
        self.once = _Once()
        self.tasks: set[asyncio.Task[None]] = set()
        self.burst_task: asyncio.Task[None] | None = None
        self.closed = asyncio.Event()
        self.errors: list[str] = []

    # ------------------------------------------------------------------ plumbing
    async def send(self, frame: dict[str, Any]) -> None:
        """Send one JSON text frame (ignored once the socket is closed)."""
        if self.ws.closed:
            raise ConnectionResetError("socket closed")
        if frame.get("status") == "error":
            self.errors.append(error_text(frame))
        await self.ws.send_str(json.dumps(frame, separators=(",", ":")))

    def ids(self, ctx: Context | None, request_id: str | None) -> dict[str, Any]:
        """Id fields carried by server frames, per the profile's echo switches."""
        out: dict[str, Any] = {"session_id": self.session_id}
        if request_id is not None:
            out["request_id"] = request_id
        if ctx is not None:
            if self.cfg.echo_context_id and ctx.key is not None:
                out["context_id"] = ctx.key
            if self.cfg.echo_request_id:
                if ctx.external_request_id:
                    out["external_request_id"] = ctx.external_request_id
                if ctx.external_session_id:
                    out["external_session_id"] = ctx.external_session_id
        return out

    def _spawn(self, coro: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def run(self) -> None:
        """Receive loop; returns when the socket closes or times out."""
        worker = asyncio.ensure_future(self._worker())
        try:
            await self._receive_loop()
        finally:
            worker.cancel()
            if self.burst_task:
                self.burst_task.cancel()
            for t in list(self.tasks):
                t.cancel()
            for ctx in self.contexts.values():
                if ctx.timer:
                    ctx.timer.cancel()
            await asyncio.gather(worker, *self.tasks, return_exceptions=True)
            if not self.ws.closed:
                await self.ws.close()

    async def _receive_loop(self) -> None:
        while not self.ws.closed:
            try:
                msg = await self.ws.receive(timeout=self.idle_timeout)
            except TimeoutError:
                n = self.idle_timeout
                shown = int(n) if float(n).is_integer() else n
                text = f"Connection timed out after {shown} seconds of inactivity"
                with contextlib.suppress(ConnectionError):
                    await self.send(tts_ws_error(self.cfg, text, code="timeout"))
                self.state.requests.append(f"WS tts {self.conn_id} idle timeout {shown}s")
                await self.ws.close(code=1000)
                return
            if msg.type == WSMsgType.TEXT:
                try:
                    await self._on_text(msg.data)
                except ConnectionError:
                    return
            elif msg.type == WSMsgType.BINARY:
                with contextlib.suppress(ConnectionError):
                    await self.send(tts_ws_error(self.cfg, "Binary frames are not supported"))
            else:
                return

    # ------------------------------------------------------------------ messages
    async def _on_text(self, data: str) -> None:
        try:
            msg = json.loads(data)
        except ValueError:
            await self.send(tts_ws_error(self.cfg, "Invalid JSON", code="invalid_json"))
            return
        if not isinstance(msg, dict):
            await self.send(tts_ws_error(self.cfg, "Invalid JSON", code="invalid_json"))
            return
        cid = msg.get("context_id")
        key = cid if isinstance(cid, str) and cid else None
        if msg.get("cancel_request"):
            await self._cancel(key)
            return
        if msg.get("context_close") and key is not None:
            self._context_close(key)
            return
        if key is not None and self.cfg.context_rejects_flush:
            mixed = [k for k in ("flush", "max_buffer_flush_ms") if k in msg]
            if mixed:
                text = f"context_id cannot be combined with {mixed[0]}"
                await self.send(tts_ws_error(self.cfg, text, code="invalid_request"))
                return
        params, issues = validate(
            msg, path_model=self.path_model, accept_any_voice=self.cfg.accept_any_voice
        )
        if params is None:
            first = issues[0]
            await self.send(
                tts_ws_error(
                    self.cfg, first["message"], code=first["code"], **self._ids_for_key(key)
                )
            )
            return
        ctx = self.contexts.get(key)
        revive = ctx is not None and ctx.cancelled and not self.cfg.cancel_ends_context
        if ctx is not None and revive and not (ctx.closing or ctx.failed):
            ctx.cancelled = False
        if ctx is None or ctx.closing or ctx.cancelled or ctx.failed:
            ctx = self._new_context(key, params, msg)
        ctx.params = params
        text = msg.get("text", "")
        cont = bool(msg.get("continue", False))
        flush = bool(msg.get("flush", False))
        ctx.record.text += text
        ctx.buffer += text
        if "complete_backoff_ms" in msg:
            ctx.backoff_ms = int(msg["complete_backoff_ms"])
        if "max_buffer_delay_ms" in msg:
            ctx.max_buffer_delay_ms = int(msg["max_buffer_delay_ms"])
        elif "max_buffer_flush_ms" in msg:
            ctx.max_buffer_delay_ms = int(msg["max_buffer_flush_ms"])
            ctx.hold_until_flush = (
                ctx.max_buffer_delay_ms <= 0 and self.cfg.buffer_flush_zero == "hold"
            )
        if isinstance(msg.get("request_id"), str):
            ctx.external_request_id = msg["request_id"]
        if isinstance(msg.get("session_id"), str):
            ctx.external_session_id = msg["session_id"]
        if not cont:
            # close (context), legacy close (flush), one-shot: release everything, then complete.
            self._release(ctx, ctx.buffer, last=True)
            return
        if flush:
            self._release(ctx, ctx.buffer, last=False)
            return
        self._release_sentences(ctx)

    def _ids_for_key(self, key: str | None) -> dict[str, Any]:
        ctx = self.contexts.get(key)
        return self.ids(ctx, None) if ctx else {"session_id": self.session_id}

    def _new_context(self, key: str | None, params: TtsParams, msg: dict[str, Any]) -> Context:
        record = TtsRecord(
            transport="ws",
            connection_id=self.conn_id,
            context_id=key,
            sample_rate=params.sample_rate,
            output_format=params.output_format,
            voice_id=params.voice_id,
            trace=self.cfg.trace,
        )
        self.state.tts_log.append(record)
        ctx = Context(
            key=key,
            record=record,
            params=params,
            backoff_ms=self.cfg.complete_backoff_ms,
            max_buffer_delay_ms=self.cfg.max_buffer_delay_ms,
        )
        if isinstance(msg.get("request_id"), str):
            record.external_request_id = msg["request_id"]
        self.contexts[key] = ctx
        return ctx

    def _release_sentences(self, ctx: Context) -> None:
        if ctx.hold_until_flush:
            return
        if ctx.max_buffer_delay_ms <= 0:
            if ctx.buffer.strip():
                self._release(ctx, ctx.buffer, last=False)
            return
        last_end = -1
        for m in _SENTENCE_END.finditer(ctx.buffer):
            last_end = m.end()
        if last_end > 0:
            self._release(ctx, ctx.buffer[:last_end], last=False, keep=ctx.buffer[last_end:])
        if ctx.buffer.strip() and ctx.timer is None:
            loop = asyncio.get_running_loop()
            ctx.timer = loop.call_later(ctx.max_buffer_delay_ms / 1000, self._on_buffer_timer, ctx)

    def _on_buffer_timer(self, ctx: Context) -> None:
        ctx.timer = None
        if not ctx.closing and not ctx.cancelled and ctx.buffer.strip():
            self._release(ctx, ctx.buffer, last=False)

    def _release(self, ctx: Context, text: str, *, last: bool, keep: str = "") -> None:
        ctx.buffer = keep
        if ctx.timer and (last or not keep.strip()):
            ctx.timer.cancel()
            ctx.timer = None
        if last:
            ctx.closing = True
            ctx.record.closed = True
        if not text.strip() and not last:
            return
        self.queue.put_nowait(Job(ctx, text, last, params=ctx.params, generation=ctx.generation))

    def _context_close(self, key: str) -> None:
        """``context_close``: release what is buffered, then forget the context."""
        ctx = self.contexts.get(key)
        if ctx is None or ctx.closing or ctx.failed:
            return
        if ctx.cancelled and self.cfg.cancel_ends_context:
            return
        ctx.cancelled = False
        self._release(ctx, ctx.buffer, last=True)
        del self.contexts[key]

    async def _cancel(self, key: str | None) -> None:
        ctx = self.contexts.get(key)
        if ctx is None or ctx.cancelled or ctx.completed:
            return
        ctx.cancelled = True
        ctx.generation += 1
        ctx.buffer = ""
        if ctx.timer:
            ctx.timer.cancel()
            ctx.timer = None
        ctx.record.cancelled = True
        ctx.record.bytes_sent_before_cancel = ctx.record.bytes_sent
        ctx.cancel_budget = self.cfg.cancel_inflight_chunks
        self.queue.put_nowait(Job(ctx, "", True, kind="cancel_ack"))

    # ------------------------------------------------------------------ synthesis
    async def _worker(self) -> None:
        while True:
            job = await self.queue.get()
            if self.burst_task:
                self.burst_task.cancel()
                self.burst_task = None
            ctx = job.ctx
            if job.kind == "cancel_ack":
                if self.cfg.cancel_ack == "complete" and not ctx.completed:
                    ctx.completed = True
                    await self._send_complete(ctx, ctx.last_request_id)
                continue
            if ctx.cancelled or ctx.failed or job.generation != ctx.generation:
                continue
            self.current = job
            try:
                ok = await self._synthesize(job)
            except ConnectionError:
                return
            finally:
                self.current = None
            if not ok or ctx.cancelled or job.generation != ctx.generation:
                continue
            await self._after_release(job)

    async def _after_release(self, job: Job) -> None:
        ctx, mode = job.ctx, self.cfg.complete_mode
        if mode == "per-release" and ctx.key is None:
            # a complete per released segment is the continuations (context_id) protocol;
            # the legacy continue/flush protocol keeps one complete per flush (§12.1)
            mode = "per-context"
        if mode == "per-burst":
            if self.queue.empty() and job.last:
                self.burst_task = self._spawn(self._delayed_complete(ctx, ctx.last_request_id))
            elif job.last:
                ctx.completed = True
            return
        if mode == "per-release" or job.last:
            if job.last:
                ctx.completed = True
            if ctx.backoff_ms <= 0:
                await self._send_complete(ctx, ctx.last_request_id)
            else:
                self._spawn(self._delayed_complete(ctx, ctx.last_request_id))

    async def _delayed_complete(self, ctx: Context, request_id: str | None) -> None:
        await asyncio.sleep(max(0, ctx.backoff_ms) / 1000)
        if ctx.cancelled and self.cfg.cancel_ack == "none":
            return
        ctx.completed = True
        with contextlib.suppress(ConnectionError):
            await self._send_complete(ctx, request_id)

    async def _send_complete(self, ctx: Context, request_id: str | None) -> None:
        if self.cfg.complete_format == "legacy":
            frame: dict[str, Any] = {"request_id": request_id, "status": "complete"}
            ids = self.ids(ctx, None)
            ids.pop("session_id", None)
            frame.update(ids)
            frame.update({"message": "All chunks sent", "done": True})
        else:
            frame = {"status": "complete", **self.ids(ctx, request_id)}
        await self.send(frame)
        ctx.record.completes_sent += 1
        ctx.record.done = ctx.completed
        if self.cfg.close_after_complete:
            await self.ws.close(code=1000)

    async def _synthesize(self, job: Job) -> bool:
        ctx, cfg, st = job.ctx, self.cfg, self.state
        p = job.params or ctx.params
        limit = cfg.concurrency_limit
        if limit is not None and st.inflight_syntheses >= limit:
            ctx.failed = True
            ctx.record.error = "Concurrency limit exceeded"
            await self.send(
                tts_ws_error(cfg, "Concurrency limit exceeded", code="concurrency_limit_exceeded")
            )
            return False
        st.inflight_syntheses += 1
        try:
            return await self._stream(job, ctx, p)
        finally:
            st.inflight_syntheses -= 1

    async def _stream(self, job: Job, ctx: Context, p: TtsParams) -> bool:
        cfg, rec = self.cfg, ctx.record
        if not job.text.strip() and rec.request_ids:
            return True  # closing message with nothing left: no new release
        request_id = f"task_{uuid.uuid4().hex[:16]}"
        ctx.last_request_id = request_id
        rec.request_ids.append(request_id)
        rec.releases.append(job.text)
        started = time.monotonic()
        syn = await synthesize(self.state, cfg, job.text, p, first_index=ctx.word_index)
        ctx.word_index += len(syn.words)
        origin = ctx.context_samples if cfg.word_origin == "per-context" else 0
        sr = p.sample_rate
        for w in syn.words:
            rec.words.append(
                WordRecord(
                    id=w.index,
                    word=w.word,
                    start_sample=w.start_sample,
                    end_sample=w.end_sample,
                    start=(origin + w.start_sample) / sr,
                    end=(origin + w.end_sample) / sr,
                    request_id=request_id,
                    context_start_sample=ctx.context_samples + w.start_sample,
                )
            )
        sent_before = len(rec.pcm)  # this release's bytes follow the earlier releases'
        rec.pcm += syn.pcm
        ctx.context_samples += len(syn.pcm) // 2
        send_words = words_enabled(cfg, p)
        chunks = encode_chunks(syn.pcm, p.output_format, sr, cfg.chunk_bytes)
        if cfg.ttfb_ms > 0:
            await asyncio.sleep(cfg.ttfb_ms / 1000)
        ids = self.ids(ctx, request_id)
        words = syn.words if send_words else []
        wi = 0
        pacer = Pacer(cfg.speed, sr)
        for chunk in chunks:
            if ctx.cancelled or job.generation != ctx.generation:
                if ctx.cancel_budget <= 0:
                    return False
                ctx.cancel_budget -= 1
            while wi < len(words) and words[wi].start_sample < chunk.end_sample:
                w = words[wi]
                wi += 1
                await self.send(
                    {
                        "status": "word_timestamp",
                        **ids,
                        "data": {
                            "id": w.index,
                            "word": w.word,
                            "start": round((origin + w.start_sample) / sr, 6),
                            "end": round((origin + w.end_sample) / sr, 6),
                        },
                    }
                )
            await self.send({"status": "chunk", **ids, "data": {"audio": chunk.b64}})
            self.chunks_sent += 1
            ctx.chunks += 1
            rec.chunks_sent += 1
            rec.bytes_sent += len(chunk.data)
            if rec.trace:
                rec.sends.append((sent_before + chunk.end_sample * 2, time.monotonic()))
            if await self._faults(ctx, request_id):
                return False
            if cfg.pause_ms > 0 and ctx.chunks == cfg.pause_after_chunks and not ctx.paused:
                ctx.paused = True
                await asyncio.sleep(cfg.pause_ms / 1000)
                pacer.pause(cfg.pause_ms / 1000)
            await pacer.wait_until(chunk.end_sample)
        if ctx.cancelled or job.generation != ctx.generation:
            return False
        for w in words[wi:]:
            await self.send(
                {
                    "status": "word_timestamp",
                    **ids,
                    "data": {
                        "id": w.index,
                        "word": w.word,
                        "start": round((origin + w.start_sample) / sr, 6),
                        "end": round((origin + w.end_sample) / sr, 6),
                    },
                }
            )
        self.state.requests.append(
            f"WS tts {self.conn_id} context={ctx.key} request={request_id} "
            f"chars={len(job.text)} bytes={sum(len(c.data) for c in chunks)} "
            f"{(time.monotonic() - started) * 1000:.0f}ms"
        )
        return True

    async def _faults(self, ctx: Context, request_id: str) -> bool:
        """Apply chunk-count faults; True when the current release must stop."""
        cfg, n = self.cfg, self.chunks_sent
        if cfg.malformed_json_after_chunks == n and "malformed" not in self.once.fired:
            self.once.fired.add("malformed")
            await self.ws.send_str('{"status":"chunk","session_id":"' + self.session_id + '","da')
        if cfg.unknown_status_after_chunks == n and "unknown" not in self.once.fired:
            self.once.fired.add("unknown")
            await self.send({"status": "queued", **self.ids(ctx, request_id)})
        if cfg.binary_frame_after_chunks == n and "binary" not in self.once.fired:
            self.once.fired.add("binary")
            await self.ws.send_bytes(b"\x00\x01\x02\x03")
        if cfg.error_after_chunks == n and "error" not in self.once.fired:
            self.once.fired.add("error")
            ctx.failed = True
            ctx.record.error = cfg.error_message
            await self.send(
                tts_ws_error(
                    cfg, cfg.error_message, code="internal_error", **self.ids(ctx, request_id)
                )
            )
            return True
        if cfg.close_after_chunks == n:
            transport = self.request.transport
            if transport is not None:
                transport.abort()
            raise ConnectionResetError("close_after_chunks fault")
        return False
