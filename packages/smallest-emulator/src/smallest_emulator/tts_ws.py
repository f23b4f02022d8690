"""TTS WebSocket protocol (§4.1-§4.5, §12.1): contexts, continuations, cancel, completes.

The session handles messages and contexts; the protocol reading it follows comes from
:class:`~smallest_emulator.tts_policy.TtsPolicy`, faults from
:class:`~smallest_emulator.tts_ws_faults.TtsWsFaults`, and the audio of each release is
streamed by :func:`~smallest_emulator.tts_ws_stream.stream_release`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import uuid
from collections.abc import Coroutine
from typing import Any

from aiohttp import WSMsgType, web

from smallest_emulator import frames
from smallest_emulator.config import EmulatorConfig
from smallest_emulator.records import TtsRecord
from smallest_emulator.state import EmulatorState
from smallest_emulator.tts_common import TtsParams, validate
from smallest_emulator.tts_policy import TtsPolicy
from smallest_emulator.tts_ws_context import Context, Job
from smallest_emulator.tts_ws_faults import TtsWsFaults
from smallest_emulator.tts_ws_stream import stream_release

__all__ = ["Context", "Job", "TtsWsSession"]

_SENTENCE_END = re.compile(r"[.!?](?=\s)")


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
        self.faults = TtsWsFaults(cfg)
        self.contexts: dict[str | None, Context] = {}
        self.queue: asyncio.Queue[Job] = asyncio.Queue()
        self.current: Job | None = None
        self.chunks_sent = 0
        self.tasks: set[asyncio.Task[None]] = set()
        self.burst_task: asyncio.Task[None] | None = None
        self.closed = asyncio.Event()
        self.errors: list[str] = []

    @property
    def policy(self) -> TtsPolicy:
        """This connection's protocol reading (memoised; follows config changes)."""
        return TtsPolicy.of(self.cfg)

    # ------------------------------------------------------------------ plumbing
    async def send(self, frame: frames.Frame) -> None:
        """Send one JSON text frame (ignored once the socket is closed)."""
        if self.ws.closed:
            raise ConnectionResetError("socket closed")
        if frame.get("status") == "error":
            self.errors.append(frames.error_text(frame))
        await self.ws.send_str(frames.dumps(frame))

    def ids(self, ctx: Context | None, request_id: str | None) -> frames.Frame:
        """Id fields carried by server frames, per the profile's echo switches."""
        return self.policy.ids(self.session_id, ctx, request_id)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run ``coro`` as a task owned (and cancelled at close) by the session."""
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
                await self._idle_timeout()
                return
            if msg.type == WSMsgType.TEXT:
                try:
                    await self._on_text(msg.data)
                except ConnectionError:
                    return
            elif msg.type == WSMsgType.BINARY:
                with contextlib.suppress(ConnectionError):
                    await self.send(self.policy.error("Binary frames are not supported"))
            else:
                return

    async def _idle_timeout(self) -> None:
        n = self.idle_timeout
        shown = int(n) if float(n).is_integer() else n
        text = f"Connection timed out after {shown} seconds of inactivity"
        with contextlib.suppress(ConnectionError):
            await self.send(self.policy.error(text, code="timeout"))
        self.state.requests.append(f"WS tts {self.conn_id} idle timeout {shown}s")
        await self.ws.close(code=1000)

    # ------------------------------------------------------------------ messages
    async def _on_text(self, data: str) -> None:
        policy = self.policy
        try:
            msg = json.loads(data)
        except ValueError:
            msg = None
        if not isinstance(msg, dict):
            await self.send(policy.error("Invalid JSON", code="invalid_json"))
            return
        cid = msg.get("context_id")
        key = cid if isinstance(cid, str) and cid else None
        if msg.get("cancel_request"):
            await self._cancel(key)
            return
        if msg.get("context_close") and key is not None:
            self._context_close(key)
            return
        conflict = policy.flush_conflict(key, msg)
        if conflict is not None:
            await self.send(policy.error(conflict, code="invalid_request"))
            return
        params, issues = validate(
            msg, path_model=self.path_model, accept_any_voice=policy.accept_any_voice
        )
        if params is None:
            first = issues[0]
            ids = self._ids_for_key(key)
            await self.send(policy.error(first["message"], code=first["code"], **ids))
            return
        ctx = self._context_for(key, params, msg)
        self._take_message(ctx, msg)
        if not msg.get("continue", False):
            # close (context), legacy close (flush), one-shot: release everything, then complete.
            self._release(ctx, ctx.buffer, last=True)
        elif msg.get("flush", False):
            self._release(ctx, ctx.buffer, last=False)
        else:
            self._release_sentences(ctx)

    def _ids_for_key(self, key: str | None) -> frames.Frame:
        ctx = self.contexts.get(key)
        return self.ids(ctx, None) if ctx else {"session_id": self.session_id}

    def _context_for(self, key: str | None, params: TtsParams, msg: dict[str, Any]) -> Context:
        """The live context for ``key``: reopened after a cancel, or a new one."""
        ctx = self.contexts.get(key)
        if ctx is not None and self.policy.cancel.reopens(ctx) and not (ctx.closing or ctx.failed):
            ctx.cancelled = False
        if ctx is None or ctx.ended:
            ctx = self._new_context(key, params, msg)
        ctx.params = params
        return ctx

    def _take_message(self, ctx: Context, msg: dict[str, Any]) -> None:
        """Buffer the message's text and apply its per-context settings."""
        text = msg.get("text", "")
        ctx.record.text += text
        ctx.buffer += text
        if "complete_backoff_ms" in msg:
            ctx.backoff_ms = int(msg["complete_backoff_ms"])
        if "max_buffer_delay_ms" in msg:
            ctx.max_buffer_delay_ms = int(msg["max_buffer_delay_ms"])
        elif "max_buffer_flush_ms" in msg:
            ctx.max_buffer_delay_ms = int(msg["max_buffer_flush_ms"])
            ctx.hold_until_flush = self.policy.holds_until_flush(ctx.max_buffer_delay_ms)
        if isinstance(msg.get("request_id"), str):
            ctx.external_request_id = msg["request_id"]
        if isinstance(msg.get("session_id"), str):
            ctx.external_session_id = msg["session_id"]

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
        policy = self.policy
        ctx = Context(
            key=key,
            record=record,
            params=params,
            backoff_ms=policy.complete_backoff_ms,
            max_buffer_delay_ms=policy.max_buffer_delay_ms,
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
        if last or not keep.strip():
            ctx.stop_timer()
        if last:
            ctx.closing = True
            ctx.record.closed = True
        if not text.strip() and not last:
            return
        self.queue.put_nowait(Job(ctx, text, last, params=ctx.params, generation=ctx.generation))

    def _context_close(self, key: str) -> None:
        """``context_close``: release what is buffered, then forget the context."""
        ctx = self.contexts.get(key)
        if ctx is None or ctx.closing or ctx.failed or self.policy.cancel.ignores_close(ctx):
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
        ctx.stop_timer()
        ctx.record.cancelled = True
        ctx.record.bytes_sent_before_cancel = ctx.record.bytes_sent
        ctx.cancel_budget = self.policy.cancel.inflight_chunks
        self.queue.put_nowait(Job(ctx, "", True, kind="cancel_ack"))

    # ------------------------------------------------------------------ releases and completes
    async def _worker(self) -> None:
        while True:
            job = await self.queue.get()
            if self.burst_task:
                self.burst_task.cancel()
                self.burst_task = None
            ctx = job.ctx
            if job.kind == "cancel_ack":
                if self.policy.cancel.acknowledged and not ctx.completed:
                    ctx.completed = True
                    await self.send_complete(ctx, ctx.last_request_id)
                continue
            if ctx.failed or job.stale:
                continue
            self.current = job
            try:
                ok = await stream_release(self, job)
            except ConnectionError:
                return
            finally:
                self.current = None
            if not ok or job.stale:
                continue
            await self.policy.completion_for(ctx).after_release(self, job)

    async def delayed_complete(self, ctx: Context, request_id: str | None) -> None:
        """Send ``complete`` after the context's backoff (unless a cancel suppresses it)."""
        await asyncio.sleep(max(0, ctx.backoff_ms) / 1000)
        if self.policy.cancel.suppresses_complete(ctx):
            return
        ctx.completed = True
        with contextlib.suppress(ConnectionError):
            await self.send_complete(ctx, request_id)

    async def send_complete(self, ctx: Context, request_id: str | None) -> None:
        """Send ``complete`` for ``ctx`` (closing the socket after it, if so configured)."""
        policy = self.policy
        await self.send(policy.complete(self.ids(ctx, request_id)))
        ctx.record.completes_sent += 1
        ctx.record.done = ctx.completed
        if policy.close_after_complete:
            await self.ws.close(code=1000)
