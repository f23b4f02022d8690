"""The TTS WebSocket server's reading of the protocol, as strategy objects.

Every protocol switch of :class:`EmulatorConfig` that changes how a TTS WebSocket session
behaves (profiles, §12.1) is read here and nowhere else: :meth:`TtsPolicy.of` resolves the
connection's config (server config + the key's and query's overrides) into a frozen policy;
the session asks it (``ids``, ``completion_for``, ``cancel``, ``sends_words``, ...) instead of
testing switches. Resolution is memoised on the switches' values, so a policy is built once
per distinct reading, and a config mutated between turns (``emu.config.x = ...``) is honoured
on the next decision, as before. Fault knobs live in :mod:`smallest_emulator.tts_ws_faults`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from smallest_emulator import frames
from smallest_emulator.config import EmulatorConfig
from smallest_emulator.tts_common import TtsParams
from smallest_emulator.tts_ws_context import Context, Job
from smallest_emulator.voices import DOCUMENTED_WORD_TIMESTAMP_VOICES, WORD_TIMESTAMP_LANGUAGES


class CompletionHost(Protocol):
    """What a completion strategy needs from the session."""

    queue: asyncio.Queue[Job]
    burst_task: asyncio.Task[None] | None

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]: ...
    async def send_complete(self, ctx: Context, request_id: str | None) -> None: ...
    async def delayed_complete(self, ctx: Context, request_id: str | None) -> None: ...


class Completion:
    """When ``complete`` frames are sent after a release (``complete_mode``)."""

    async def after_release(self, host: CompletionHost, job: Job) -> None:
        """Called once a release's audio is out (not for cancelled releases)."""
        if job.last:
            await self._complete(host, job)

    @staticmethod
    async def _complete(host: CompletionHost, job: Job) -> None:
        ctx = job.ctx
        if job.last:
            ctx.completed = True
        if ctx.backoff_ms <= 0:
            await host.send_complete(ctx, ctx.last_request_id)
        else:
            host.spawn(host.delayed_complete(ctx, ctx.last_request_id))


class PerContext(Completion):
    """One ``complete`` when the context's last release is out (``per-context``)."""


class PerRelease(Completion):
    """A ``complete`` after every release (``per-release``, continuations)."""

    async def after_release(self, host: CompletionHost, job: Job) -> None:
        """Complete every release."""
        await self._complete(host, job)


class PerBurst(Completion):
    """One ``complete`` per burst of back-to-back requests (``per-burst``)."""

    async def after_release(self, host: CompletionHost, job: Job) -> None:
        """Complete only when the queue ran dry (a newer job cancels the pending one)."""
        if host.queue.empty() and job.last:
            host.burst_task = host.spawn(host.delayed_complete(job.ctx, job.ctx.last_request_id))
        elif job.last:
            job.ctx.completed = True


_COMPLETIONS: dict[str, Completion] = {
    "per-context": PerContext(),
    "per-release": PerRelease(),
    "per-burst": PerBurst(),
}


@dataclass(frozen=True)
class CancelPolicy:
    """What ``cancel_request`` does to a context."""

    ends_context: bool
    """True: the context is over; False: it stays open for more fragments."""
    acknowledged: bool
    """A ``complete`` answers the cancel (``cancel_ack=complete``)."""
    inflight_chunks: int
    """Chunks already in flight that still go out after the cancel."""

    def reopens(self, ctx: Context) -> bool:
        """New text on a cancelled context continues it (rather than opening a new one)."""
        return ctx.cancelled and not self.ends_context

    def ignores_close(self, ctx: Context) -> bool:
        """``context_close`` on a cancelled context is a no-op."""
        return ctx.cancelled and self.ends_context

    def suppresses_complete(self, ctx: Context) -> bool:
        """A pending (delayed) ``complete`` is dropped because the context was cancelled."""
        return ctx.cancelled and not self.acknowledged


@dataclass(frozen=True)
class TtsPolicy:
    """One connection's reading of the TTS WebSocket protocol (see module doc)."""

    echo_context_id: bool
    echo_request_id: bool
    completion: Completion
    cancel: CancelPolicy
    legacy_complete: bool
    close_after_complete: bool
    error_shape: int
    words_per_context: bool
    words_for_all_voices: bool
    context_rejects_flush: bool
    hold_on_zero_flush: bool
    accept_any_voice: bool
    complete_backoff_ms: int
    max_buffer_delay_ms: int

    @staticmethod
    def of(cfg: EmulatorConfig) -> TtsPolicy:
        """The policy for ``cfg`` (memoised on the switches' values)."""
        return _resolve(*(getattr(cfg, name) for name in _SWITCHES))

    # -- ids and frames
    def ids(self, session_id: str, ctx: Context | None, request_id: str | None) -> frames.Frame:
        """Id fields carried by server frames, per the echo switches."""
        out: frames.Frame = {"session_id": session_id}
        if request_id is not None:
            out["request_id"] = request_id
        if ctx is not None:
            if self.echo_context_id and ctx.key is not None:
                out["context_id"] = ctx.key
            if self.echo_request_id:
                if ctx.external_request_id:
                    out["external_request_id"] = ctx.external_request_id
                if ctx.external_session_id:
                    out["external_session_id"] = ctx.external_session_id
        return out

    def error(self, message: str, *, code: str = "error", **ids: Any) -> frames.Frame:
        """An error frame in this reading's shape."""
        return frames.tts_ws_error(self.error_shape, message, code=code, **ids)

    def complete(self, ids: frames.Frame) -> frames.Frame:
        """A ``complete`` frame in this reading's shape."""
        return frames.tts_complete(ids, legacy=self.legacy_complete)

    # -- messages and buffering
    def flush_conflict(self, key: str | None, msg: dict[str, Any]) -> str | None:
        """Why a message is refused for mixing ``context_id`` with legacy flush fields."""
        if key is None or not self.context_rejects_flush:
            return None
        mixed = [k for k in ("flush", "max_buffer_flush_ms") if k in msg]
        return f"context_id cannot be combined with {mixed[0]}" if mixed else None

    def holds_until_flush(self, max_buffer_delay_ms: int) -> bool:
        """Legacy ``max_buffer_flush_ms: 0`` keeps the text until a flush."""
        return max_buffer_delay_ms <= 0 and self.hold_on_zero_flush

    def completion_for(self, ctx: Context) -> Completion:
        """The completion strategy of ``ctx``.

        A complete per released segment is the continuations (``context_id``) protocol; the
        legacy continue/flush protocol keeps one complete per flush (§12.1).
        """
        if isinstance(self.completion, PerRelease) and ctx.key is None:
            return _COMPLETIONS["per-context"]
        return self.completion

    # -- words
    def sends_words(self, p: TtsParams) -> bool:
        """Whether ``word_timestamp`` frames are sent for this request."""
        if not p.word_timestamps:
            return False
        if self.words_for_all_voices:
            return True
        language_ok = p.language in (None, "auto", *WORD_TIMESTAMP_LANGUAGES)
        return p.voice_id in DOCUMENTED_WORD_TIMESTAMP_VOICES and language_ok

    def word_origin(self, ctx: Context) -> int:
        """Sample offset of word times: the context timeline or each release's own."""
        return ctx.context_samples if self.words_per_context else 0


_SWITCHES = (
    "echo_context_id",
    "echo_request_id",
    "complete_mode",
    "cancel_ends_context",
    "cancel_ack",
    "cancel_inflight_chunks",
    "complete_format",
    "close_after_complete",
    "error_shape",
    "word_origin",
    "word_timestamp_voices",
    "context_rejects_flush",
    "buffer_flush_zero",
    "accept_any_voice",
    "complete_backoff_ms",
    "max_buffer_delay_ms",
)


@lru_cache(maxsize=64)
def _resolve(
    echo_context_id: bool,
    echo_request_id: bool,
    complete_mode: str,
    cancel_ends_context: bool,
    cancel_ack: str,
    cancel_inflight_chunks: int,
    complete_format: str,
    close_after_complete: bool,
    error_shape: int,
    word_origin: str,
    word_timestamp_voices: str,
    context_rejects_flush: bool,
    buffer_flush_zero: str,
    accept_any_voice: bool,
    complete_backoff_ms: int,
    max_buffer_delay_ms: int,
) -> TtsPolicy:
    return TtsPolicy(
        echo_context_id=echo_context_id,
        echo_request_id=echo_request_id,
        completion=_COMPLETIONS.get(complete_mode, _COMPLETIONS["per-context"]),
        cancel=CancelPolicy(
            ends_context=cancel_ends_context,
            acknowledged=cancel_ack == "complete",
            inflight_chunks=cancel_inflight_chunks,
        ),
        legacy_complete=complete_format == "legacy",
        close_after_complete=close_after_complete,
        error_shape=error_shape,
        words_per_context=word_origin == "per-context",
        words_for_all_voices=word_timestamp_voices == "all",
        context_rejects_flush=context_rejects_flush,
        hold_on_zero_flush=buffer_flush_zero == "hold",
        accept_any_voice=accept_any_voice,
        complete_backoff_ms=complete_backoff_ms,
        max_buffer_delay_ms=max_buffer_delay_ms,
    )
