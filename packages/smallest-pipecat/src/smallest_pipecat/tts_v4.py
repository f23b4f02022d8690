"""Lightning v4 text-to-speech over its live session (``WS /waves/v1/lightning-v4/live``).

A protocol of its own (turns, not continuation contexts), so a service of its own, named
the way Pipecat names a provider's model-variant services. Each sentence of a Pipecat
audio context is one v4 turn on one persistent socket; the core's
:class:`~smallest_core.LightningV4Session` routes the audio of each turn, and the context
ends once its last turn has. Barge-in sends ``interrupt`` on the same socket; audio of an
interrupted turn is dropped by the core, never played in the next one.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from loguru import logger
from pipecat.frames.frames import ErrorFrame, Frame
from pipecat.processors.frame_processor import FrameDirection
from pipecat.services.tts_service import WebsocketTTSService
from pipecat.transcriptions.language import Language
from pipecat.utils.errors import ErrorCategory

from smallest_core import LightningV4Session, SmallestError, check_duration
from smallest_pipecat._common import CheckedSettings, prepare_service
from smallest_pipecat._failures import ReportedFailures
from smallest_pipecat._resample import stream_resampler
from smallest_pipecat._v4_receive import V4Context, V4Receiver
from smallest_pipecat._v4_user_audio import CallerTurns
from smallest_pipecat.settings_v4 import (
    V4_SAMPLE_RATES,
    SmallestLightningV4TTSSettings,
    initial_v4_settings,
    v4_language,
    v4_options,
)

DEFAULT_RESPONSE_TIMEOUT_S = 10.0
"""How long the server may stay silent while a turn is queued or speaking."""


class SmallestLightningV4TTSService(
    V4Receiver, ReportedFailures, CheckedSettings, WebsocketTTSService
):
    """Smallest AI Lightning v4 (beta) over one persistent live session.

    Example::

        tts = SmallestLightningV4TTSService(
            settings=SmallestLightningV4TTSService.Settings(voice="brannock"),
        )
    """

    Settings = SmallestLightningV4TTSSettings
    _settings: SmallestLightningV4TTSSettings

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        sample_rate: int | None = None,
        user_audio: bool = True,
        response_timeout_s: float = DEFAULT_RESPONSE_TIMEOUT_S,
        expire_content: bool = False,
        settings: SmallestLightningV4TTSSettings | None = None,
        **kwargs: Any,
    ) -> None:
        """Create the service.

        Args:
            api_key: Smallest API key (default: ``SMALLEST_API_KEY``).
            base_url: API root (default: ``SMALLEST_BASE_URL`` or https://api.smallest.ai).
            sample_rate: Output rate; default the pipeline's. Rates v4 does not produce
                (22050) are requested at 24000 and resampled.
            user_audio: Send the caller's last turn (transcript and audio) before each
                reply, so the voice follows the conversation (see :meth:`add_user_turn`).
            response_timeout_s: Fail the turns the server owes audio when it stays
                silent this long; the socket is then replaced.
            expire_content: Ask the server to delete the content after 7 days.
            settings: Voice, language, speed, content filter (connection options: a
                change opens a new session once the current turns are over).
            **kwargs: Passed to :class:`WebsocketTTSService`; unknown names raise
                ``TypeError``.
        """
        prepare_service(
            self,
            WebsocketTTSService,
            kwargs,
            settings=SmallestLightningV4TTSSettings,
            api_key=api_key,
            base_url=base_url,
            sample_rate=sample_rate,
            expire_content=expire_content,
        )
        store = initial_v4_settings(settings)
        self._response_timeout_s = check_duration("response_timeout_s", response_timeout_s)
        v4_options(store, _v4_rate(sample_rate or 24000))
        super().__init__(
            push_text_frames=True,
            push_stop_frames=True,
            push_start_frame=True,
            sample_rate=sample_rate,
            settings=store,
            **kwargs,
        )
        self._init_socket()
        self._stale = False
        """Settings changed: the next turn after the current ones opens a new session."""
        self._reported: LightningV4Session | None = None
        """The session whose failure was reported (each is reported once)."""
        self._contexts: dict[str, V4Context] = {}
        self._turn_context: dict[str, str] = {}
        self._failed_contexts: set[str] = set()
        self._caller = CallerTurns() if user_audio else None
        self._heard_at = 0.0

    # ------------------------------------------------------------------ public API
    def language_to_service_language(self, language: Language) -> str | None:
        """``en`` (or ``auto``); other languages raise ``ValueError``."""
        return v4_language(language)

    async def add_user_turn(self, text: str) -> None:
        """The caller's words for the audio captured between the user's last
        ``UserStartedSpeakingFrame`` and ``UserStoppedSpeakingFrame``; sent before the
        next reply. Final ``TranscriptionFrame``s reaching this service are used the same
        way, so calling this is needed only where they do not."""
        if self._caller is not None:
            self._caller.set_text(text)

    # ------------------------------------------------------------------ socket
    async def _connect_refused(self, error: SmallestError) -> None:
        await self.push_error_frame(self._error_frame(error))

    async def _drop_contexts(self) -> None:
        self._contexts.clear()
        self._turn_context.clear()

    async def _connect_websocket(self) -> None:
        await self._ensure_session()

    async def _disconnect_websocket(self) -> None:
        session = self._protocol
        if session is not None and not session.closed:
            session.end()  # a polite goodbye, then the close
            await self._send_queued(session)
        await super()._disconnect_websocket()

    async def _ensure_session(self) -> LightningV4Session:
        """The open session, opening one first if there is none (or settings changed)."""
        async with self._socket_lock:
            session = self._protocol
            if self._stale and session is not None and not session.busy:
                await self._disconnect_websocket()
                session = None
            transport = self._transport
            if transport and not transport.closed and session and not session.closed:
                return session
            self._stale = False
            options = v4_options(self._settings, _v4_rate(self.sample_rate))
            session = LightningV4Session(options)
            return await self._open_websocket(options.url(self._endpoints), "Lightning v4", session)

    # ------------------------------------------------------------------ synthesis
    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        """Capture the caller's turn (audio and words) for ``user_audio``."""
        if self._caller is not None:
            self._caller.observe(frame)
        await super().process_frame(frame, direction)

    async def run_tts(self, text: str, context_id: str) -> AsyncGenerator[Frame | None, None]:
        """Speak ``text`` as the next v4 turn of the context."""
        try:
            session = await self._ensure_session()
        except SmallestError as exc:
            self._failed_contexts.add(context_id)
            yield self._error_frame(exc)
            return
        ctx = self._contexts.get(context_id)
        if ctx is None:
            ctx = self._contexts[context_id] = V4Context()
            if session.sample_rate != self.sample_rate:
                ctx.resampler = stream_resampler(session.sample_rate, self.sample_rate)
            self._send_caller_turn(session)
        was_busy = session.busy
        try:
            turn_id = session.speak(text)
        except ValueError as exc:
            yield ErrorFrame(
                f"Smallest TTS text refused: {exc}", category=ErrorCategory.APPLICATION
            )
            return
        ctx.turns.add(turn_id)
        self._turn_context[turn_id] = context_id
        self._owe_audio(was_busy)
        await self._handle_events(session, session.events())
        await self._send_queued(session)
        await self.start_tts_usage_metrics(text)
        yield None

    def _send_caller_turn(self, session: LightningV4Session) -> None:
        turn = self._caller.take() if self._caller is not None else None
        if turn is None:
            return
        try:
            session.add_user_turn(*turn)
        except ValueError as exc:
            logger.debug(f"{self} caller turn not sent: {exc}")

    async def flush_audio(self, context_id: str | None = None) -> None:
        """The Pipecat turn is over: the context ends with its last v4 turn."""
        ctx = self._contexts.get(context_id or "")
        if context_id is None or ctx is None:
            if context_id is not None and context_id in self._failed_contexts:
                await self.remove_audio_context(context_id)
            return
        ctx.flushed = True
        if not ctx.turns:
            await self._finish(context_id)

    async def on_audio_context_interrupted(self, context_id: str) -> None:
        """Barge-in: ``interrupt`` on the same socket; the turn's audio goes nowhere.

        The server stops every turn it has (v4 has no per-turn cancel), so nothing is
        sent when this context has no turn left there; turns of other contexts stopped
        with it end those contexts as usual.
        """
        ctx = self._contexts.pop(context_id, None)
        session = self._protocol
        if ctx is not None:
            for turn_id in ctx.turns:
                self._turn_context.pop(turn_id, None)
            if ctx.turns and session is not None and not session.closed:
                session.interrupt()
                await self._handle_events(session, session.events())
                await self._send_queued(session)
        await self.stop_all_metrics()  # type: ignore[no-untyped-call]
        await super().on_audio_context_interrupted(context_id)

    def _check_settings(self, candidate: Any) -> None:
        candidate.language = v4_language(candidate.language)
        v4_options(candidate, _v4_rate(self.sample_rate))

    async def _update_settings(self, delta: Any) -> dict[str, Any]:
        """Apply a delta; connection options take effect on a new session."""
        changed = await super()._update_settings(delta)
        if changed:
            self._stale = True
        return changed


def _v4_rate(sample_rate: int) -> int:
    """``sample_rate`` if v4 produces it, else 24000 (resampled locally)."""
    return sample_rate if sample_rate in V4_SAMPLE_RATES else 24000


__all__ = ["DEFAULT_RESPONSE_TIMEOUT_S", "SmallestLightningV4TTSService"]
