"""Lightning v4 text-to-speech for VideoSDK agents: :class:`SmallestAITTSV4`."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from videosdk.agents import TTS, FlushMarker

from smallest_core import (
    ErrorKind,
    LightningV4Options,
    SentenceSegmenter,
    SmallestError,
    TurnAudio,
    TurnEnded,
    TurnFailed,
    check_duration,
    check_text,
    connection_error,
    should_replay,
)
from smallest_videosdk._common import Account, describe
from smallest_videosdk._playback import TRACK_SAMPLE_RATE, TrackAudio
from smallest_videosdk._tts_socket import V4Socket, open_v4

logger = logging.getLogger("smallest_videosdk.tts")

TextInput = AsyncIterator[str | FlushMarker] | str

MODEL = "lightning-v4"
_SPOKE = object()
"""Queued after each ``speak``: the player's wait for audio starts again from there."""
_INPUT_DONE = object()
"""Queued once the caller's text is exhausted (or its iterator failed)."""
_DEAD = object()
"""Queued when a sentence found the session gone: the player replays it or fails."""
_NOTHING_HELD = object()


class _Interrupted(Exception):
    """Raised inside a turn when :meth:`SmallestAITTSV4.interrupt` stopped it."""


@dataclass(eq=False)
class _Call:
    """One ``synthesize()`` call: the v4 turns (one per sentence) it spoke."""

    options: LightningV4Options
    queue: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)
    socket: V4Socket | None = None
    texts: dict[str, str] = field(default_factory=dict)
    """Every sentence spoken, by turn id, in order."""
    pending: set[str] = field(default_factory=set)
    """Turns not yet over."""
    heard: bool = False
    replays: int = 0
    input_done: bool = False
    interrupted: bool = False
    first_audio: bool = False
    producer: asyncio.Task[None] | None = None


class SmallestAITTSV4(TTS):  # type: ignore[misc]
    """Smallest AI Lightning v4 TTS for VideoSDK agent pipelines (beta, enabled per account).

    One ``WS /waves/v1/lightning-v4/live`` session is kept across turns. The text of a
    turn is cut into sentences as it arrives and each sentence is spoken as one v4 turn
    (the server speaks them in order). :meth:`interrupt` sends the protocol's
    ``interrupt`` on the same session: the server stops, and audio still in flight for
    the interrupted sentences is dropped, never played in the next turn.
    :meth:`add_user_turn` gives the session the caller's words and audio, which
    condition how later replies sound. English only; no word timestamps.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        voice_id: str | None = None,
        language: str = "en",
        sample_rate: int = TRACK_SAMPLE_RATE,
        speed: float = 1.0,
        content_filter: str | None = None,
        timeout: float = 30.0,
        http_session: aiohttp.ClientSession | None = None,
    ) -> None:
        given = {"voice_id": voice_id} if voice_id is not None else {}
        self._options = LightningV4Options(
            language=language,
            sample_rate=sample_rate,
            speed=speed,
            content_filter=content_filter,
            **given,
        )
        check_duration("timeout", timeout)
        self._account = Account.resolve(api_key, base_url)
        super().__init__(sample_rate=TRACK_SAMPLE_RATE, num_channels=1, word_timestamps=False)
        self.timeout = timeout
        self.loop: asyncio.AbstractEventLoop | None = None
        self._session = http_session
        self._owns_session = http_session is None
        self._socket: V4Socket | None = None
        self._connect_lock = asyncio.Lock()
        self._call: _Call | None = None
        self._closed = False

    # ------------------------------------------------------------------ public API
    @property
    def options(self) -> LightningV4Options:
        """The validated session options."""
        return self._options

    @property
    def model(self) -> str:
        return MODEL

    @property
    def voice_id(self) -> str:
        return self._options.voice_id

    def reset_first_audio_tracking(self) -> None:
        """The next turn reports its first audio again (the pipeline calls this per turn)."""
        if self._call is not None:
            self._call.first_audio = False

    async def prewarm(self) -> None:
        """Open the session ahead of the first turn (failures are logged, not raised)."""
        if self._closed:
            return
        try:
            await self._live(self._options)
        except SmallestError as exc:
            logger.warning("Lightning v4 prewarm failed: %s", exc.message)

    async def synthesize(self, text: TextInput, voice_id: str | None = None, **kwargs: Any) -> None:
        """Speak ``text`` (a string, or tokens and ``FlushMarker``s) on the audio track.

        Returns once all of the turn's audio has been pushed to the track, or promptly
        after :meth:`interrupt`. A server error is emitted as ``"error"`` and raised as
        :class:`~smallest_core.SmallestError`. A ``voice_id`` other than the session's
        opens a session for that voice (v4 fixes the voice per session).
        """
        self._check_open()
        if isinstance(text, str):
            check_text(text)
        if self.audio_track is None:
            self.emit("error", "Smallest AI TTS: no audio track is set on the TTS")
            return
        options = self._options
        if voice_id and voice_id != options.voice_id:
            options = dataclasses.replace(options, voice_id=voice_id)
        call = _Call(options)
        self._call = call
        try:
            call.socket = await self._live(options)
            if call.interrupted:
                return
            await self._play(call, _as_stream(text))
        except _Interrupted:
            return
        except SmallestError as exc:
            if call.interrupted:
                return
            self.emit("error", f"Smallest AI TTS: {describe(exc)}")
            raise
        finally:
            await self._end_call(call)

    async def interrupt(self) -> None:
        """Barge-in: the server stops this turn's sentences on the same session, and the
        track is cleared."""
        call = self._call
        if call is not None:
            call.interrupted = True
            sock = call.socket
            if sock is not None and sock.usable:
                sock.interrupt()
                await sock.send_pending()
            call.queue.put_nowait(None)
        track = self.audio_track
        if track is not None and hasattr(track, "interrupt"):
            track.interrupt()

    async def add_user_turn(self, text: str, pcm: bytes, sample_rate: int = 16000) -> None:
        """Give the session the caller's turn: what they said (``text``) and how
        (``pcm``: int16 mono at ``sample_rate``). Later replies are conditioned on it.

        The VideoSDK pipeline hands a TTS only the reply text: wire it with
        ``SmallestAISTT.on_user_turn(tts.add_user_turn)``, or call it from the agent.
        ``ValueError`` without words or audio.
        """
        self._check_open()
        sock = await self._live(self._options)
        sock.add_user_turn(text, pcm, sample_rate)
        await sock.send_pending()

    async def aclose(self) -> None:
        """Stop any turn, end the session and close the HTTP session."""
        self._closed = True
        if self._call is not None:
            await self.interrupt()
        if self._socket is not None:
            await self._socket.aclose()
            self._socket = None
        if self._session is not None and self._owns_session:
            await self._session.close()
            self._session = None
        # As in SmallestAITTS: skip the base class's process-wide gc.collect().
        self._first_audio_callback = None

    # ------------------------------------------------------------------ session
    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(
                "this SmallestAITTSV4 is closed (aclose() was called): make a new one"
            )

    async def _live(self, options: LightningV4Options) -> V4Socket:
        async with self._connect_lock:
            self._check_open()
            sock = self._socket
            if sock is not None:
                if sock.usable and sock.session.options == options:
                    return sock
                await sock.aclose()
                self._socket = None
            if self._session is None or self._session.closed:
                self._session = aiohttp.ClientSession()
                self._owns_session = True
            url = options.url(self._account.endpoints)
            sock = await open_v4(self._session, url, self._account.headers(), options, self.timeout)
            self._socket = sock
            return sock

    # ------------------------------------------------------------------ one turn
    async def _play(self, call: _Call, text: AsyncIterator[str | FlushMarker]) -> None:
        call.producer = asyncio.create_task(self._produce(call, text))
        audio: TrackAudio | None = None
        queue = call.queue
        held: Any = _NOTHING_HELD  # an event taken while batching audio
        while not (call.input_done and not call.pending):
            if held is not _NOTHING_HELD:
                event, held = held, _NOTHING_HELD
            else:
                try:
                    async with asyncio.timeout(self.timeout if call.pending else None):
                        event = await queue.get()
                except TimeoutError:
                    await self._time_out(call)
            if event is None or call.interrupted:
                raise _Interrupted
            if event is _INPUT_DONE:
                call.input_done = True
                await self._check_producer(call)
            elif event is _DEAD:
                sock = call.socket
                if sock is not None and not sock.usable:
                    lost = connection_error("the Lightning v4 session closed")
                    await self._replay(call, sock.failure or lost)
            elif isinstance(event, TurnAudio) and event.turn_id in call.pending:
                call.heard = True
                if audio is None:
                    rate = call.socket.session.sample_rate if call.socket else 0
                    audio = TrackAudio(rate, self._track_rate())
                parts = [event.audio]
                while not queue.empty():
                    following = queue.get_nowait()
                    if not isinstance(following, TurnAudio):
                        held = following
                        break
                    parts.append(following.audio)
                await self._push(call, audio.convert(b"".join(parts)))
            elif isinstance(event, TurnEnded):
                call.pending.discard(event.turn_id)
            elif isinstance(event, TurnFailed) and event.turn_id in call.pending:
                await self._replay(call, event.error)
        if audio is not None:
            await self._push(call, audio.finish())

    async def _replay(self, call: _Call, error: SmallestError) -> None:
        """Speak every unfinished sentence again on a new session when the session failed
        before any audio of the turn was heard (the core's replay rule); else the turn fails."""
        if not should_replay(error, audio_received=call.heard, replays=call.replays):
            raise _explain(error)
        call.replays += 1
        logger.info("Lightning v4 failed before any audio (%s); replaying", error.message)
        old = call.socket
        if old is not None:
            await self._drop(old)
        unfinished = [text for turn_id, text in call.texts.items() if turn_id in call.pending]
        call.pending.clear()
        call.socket = await self._live(call.options)
        for sentence in unfinished:
            await self._speak(call, sentence)

    async def _produce(self, call: _Call, text: AsyncIterator[str | FlushMarker]) -> None:
        """Cut the caller's text into sentences and speak each as soon as it is complete."""
        segmenter = SentenceSegmenter()
        try:
            async for item in text:
                if call.interrupted:
                    return
                if isinstance(item, FlushMarker):
                    sentences = segmenter.flush()
                elif isinstance(item, str) and item:
                    sentences = segmenter.push(check_text(item))
                else:
                    continue
                for sentence in sentences:
                    await self._speak(call, sentence)
            for sentence in segmenter.flush():
                await self._speak(call, sentence)
        finally:
            call.queue.put_nowait(_INPUT_DONE)

    async def _speak(self, call: _Call, sentence: str) -> None:
        """One sentence as one v4 turn; the player's wait for audio starts again now."""
        sock = call.socket
        if call.interrupted or sock is None or not sentence.strip():
            return
        if not sock.usable:
            turn_id = uuid.uuid4().hex[:16]  # never sent: it only marks what was lost
            call.texts[turn_id] = sentence
            call.pending.add(turn_id)
            call.queue.put_nowait(_DEAD)
            return
        turn_id = sock.speak(sentence, call.queue.put_nowait)
        call.texts[turn_id] = sentence
        call.pending.add(turn_id)
        call.queue.put_nowait(_SPOKE)
        await sock.send_pending()

    async def _check_producer(self, call: _Call) -> None:
        """The text is exhausted: if its iterator failed, that failure is the turn's."""
        producer = call.producer
        if producer is None:
            return
        await asyncio.wait({producer}, timeout=self.timeout)
        if producer.done() and not producer.cancelled() and producer.exception() is not None:
            raise producer.exception() from None  # type: ignore[misc]

    async def _time_out(self, call: _Call) -> None:
        """The server owed audio and sent nothing: fail the turn and drop the session."""
        if call.socket is not None:
            await self._drop(call.socket)
        raise SmallestError(
            f"no audio from Lightning v4 within {self.timeout:g}s of the text it was sent",
            kind=ErrorKind.TIMEOUT,
        )

    async def _push(self, call: _Call, pcm: bytes) -> None:
        if call.interrupted:
            raise _Interrupted
        track = self.audio_track
        if not pcm or track is None:
            return
        if not call.first_audio:
            call.first_audio = True
            if self._first_audio_callback is not None:
                await self._first_audio_callback()
            if call.interrupted:
                raise _Interrupted
        await track.add_new_bytes(pcm)

    async def _end_call(self, call: _Call) -> None:
        producer = call.producer
        if producer is not None and not producer.done():
            producer.cancel()
        if producer is not None:
            with contextlib.suppress(BaseException):
                await producer
        sock = call.socket
        if call.pending and sock is not None and sock.usable and not call.interrupted:
            sock.interrupt()  # a failed turn: stop what it still had queued
            await sock.send_pending()
        if self._call is call:
            self._call = None

    async def _drop(self, sock: V4Socket) -> None:
        """Close a session that may not speak another turn."""
        if self._socket is sock:
            self._socket = None
        await sock.aclose()

    def _track_rate(self) -> int:
        rate = getattr(self.audio_track, "sample_rate", TRACK_SAMPLE_RATE)
        return rate if isinstance(rate, int) and rate > 0 else TRACK_SAMPLE_RATE


def _explain(error: SmallestError) -> SmallestError:
    """The server's error, with what to do when the account has no v4 access."""
    if error.code != "model_access_denied":
        return error
    return SmallestError(
        f"{error.message}; Lightning v4 is enabled per account: ask Smallest AI for access, "
        "or use SmallestAITTS (Lightning v3.1)",
        kind=error.kind,
        code=error.code,
        status_code=error.status_code,
    )


async def _as_stream(text: TextInput) -> AsyncIterator[str | FlushMarker]:
    if isinstance(text, str):
        yield text
        return
    async for item in text:
        yield item
