"""What :class:`SmallestAITTS` and :class:`SmallestAITTSV4` share: the account and the HTTP
session, one socket reused across turns, and a turn's life: its text read as a stream, its
audio pushed to the agent's 24 kHz track (first audio reported once per turn), a server
error emitted as ``"error"`` and raised, its text reader stopped at the end."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Generic, NoReturn, Protocol, TypeVar

import aiohttp
from videosdk.agents import TTS, FlushMarker

from smallest_core import (
    ErrorKind,
    SentenceSegmenter,
    SmallestError,
    check_duration,
    check_text,
)
from smallest_videosdk._common import Account, connect_ws, describe
from smallest_videosdk._playback import TRACK_SAMPLE_RATE

logger = logging.getLogger("smallest_videosdk.tts")

TextInput = AsyncIterator[str | FlushMarker] | str


class Interrupted(Exception):
    """Raised inside a turn when the TTS's ``interrupt()`` stopped it."""


@dataclass(eq=False)
class TurnState:
    """One ``synthesize()`` call, as far as the shared steps need it."""

    interrupted: bool = False
    first_audio: bool = False
    producer: asyncio.Task[None] | None = None
    """Reads the caller's text while the turn plays."""


class Socket(Protocol):
    """What the shared steps use of a socket (``TTSSocket``, ``V4Socket``)."""

    @property
    def usable(self) -> bool: ...

    async def aclose(self) -> None: ...


class Options(Protocol):
    """What the shared steps use of options (``TTSOptions``, ``LightningV4Options``)."""

    @property
    def voice_id(self) -> str: ...


TurnT = TypeVar("TurnT", bound=TurnState)
SocketT = TypeVar("SocketT", bound=Socket)
OptionsT = TypeVar("OptionsT", bound=Options)


class TrackTTS(TTS, Generic[TurnT, SocketT, OptionsT]):  # type: ignore[misc]
    """A TTS that speaks onto the agent's audio track over one socket kept across turns.

    A subclass says when the kept socket still fits a turn's options (:meth:`_fits`) and
    how to open one (:meth:`_connect`).
    """

    SERVICE = "TTS"
    """How logs and connection errors name the service."""
    SERVER = "the server"
    """How a turn's errors name who failed to answer."""

    def __init__(
        self,
        options: OptionsT,
        account: Account,
        timeout: float,
        http_session: aiohttp.ClientSession | None,
        *,
        word_timestamps: bool = False,
    ) -> None:
        check_duration("timeout", timeout)
        self._options = options
        self._account = account
        super().__init__(
            sample_rate=TRACK_SAMPLE_RATE, num_channels=1, word_timestamps=word_timestamps
        )
        self.timeout = timeout
        self.loop: asyncio.AbstractEventLoop | None = None
        self._session = http_session
        self._owns_session = http_session is None
        self._socket: SocketT | None = None
        self._connect_lock = asyncio.Lock()
        self._turn: TurnT | None = None
        self._closed = False

    @property
    def options(self) -> OptionsT:
        """The validated options (immutable: a change makes a new object)."""
        return self._options

    @property
    def voice_id(self) -> str:
        return self._options.voice_id

    def reset_first_audio_tracking(self) -> None:
        """The next turn reports its first audio again (the pipeline calls this per turn)."""
        if self._turn is not None:
            self._turn.first_audio = False

    async def prewarm(self) -> None:
        """Open the socket ahead of the first turn (failures are logged, not raised)."""
        if self._closed:
            return
        try:
            await self._live(self._options)
        except SmallestError as exc:
            logger.warning("%s prewarm failed: %s", self.SERVICE, exc.message)

    async def aclose(self) -> None:
        """Stop any turn and close the socket and the HTTP session."""
        self._closed = True
        if self._turn is not None:
            await self.interrupt()
        if self._socket is not None:
            await self._socket.aclose()
            self._socket = None
        if self._session is not None and self._owns_session:
            await self._session.close()
            self._session = None
        # The base class's aclose() only drops this callback and then forces a full
        # gc.collect(), which stalls every other session in the process (tens of ms on
        # an agent's heap, per close): do the former only.
        self._first_audio_callback = None

    # ------------------------------------------------------------------ the socket
    @abstractmethod
    def _fits(self, sock: SocketT, options: OptionsT) -> bool:
        """Whether the kept socket may carry a turn with ``options``."""

    @abstractmethod
    async def _connect(self, options: OptionsT) -> SocketT:
        """A new socket for ``options`` (see :meth:`_open_ws`)."""

    async def _live(self, options: OptionsT) -> SocketT:
        """The kept socket when it fits ``options``, else a new one (the old one closed)."""
        async with self._connect_lock:
            self._check_open()
            sock = self._socket
            if sock is not None:
                if self._fits(sock, options):
                    return sock
                await sock.aclose()
                self._socket = None
            sock = await self._connect(options)
            self._socket = sock
            return sock

    async def _open_ws(self, url: str, label: str) -> aiohttp.ClientWebSocketResponse:
        """The WebSocket at ``url``; a refused upgrade raises with the server's message."""
        headers = self._account.headers()
        return await connect_ws(self._http(), url, headers, self.timeout, self.SERVICE, label)

    async def _drop(self, sock: SocketT) -> None:
        """Close a socket that may not carry another turn."""
        if self._socket is sock:
            self._socket = None
        await sock.aclose()

    def _check_open(self) -> None:
        if self._closed:
            name = type(self).__name__
            raise RuntimeError(f"this {name} is closed (aclose() was called): make a new one")

    def _http(self) -> aiohttp.ClientSession:
        self._check_open()
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._owns_session = True
        return self._session

    # ------------------------------------------------------------------ one turn
    def _ready_for(self, text: TextInput) -> bool:
        """Whether a turn may start: ``RuntimeError`` once closed, ``ValueError`` for text
        that cannot be sent; without an audio track the error is emitted instead."""
        self._check_open()
        if isinstance(text, str):
            check_text(text)
        if self.audio_track is None:
            self.emit("error", "Smallest AI TTS: no audio track is set on the TTS")
            return False
        return True

    async def _run(self, turn: TurnT, play: Awaitable[None]) -> None:
        """Make ``turn`` the current one and await ``play``: an interrupt ends it quietly, a
        server error is emitted as ``"error"`` and raised; the turn is ended either way."""
        self._turn = turn
        try:
            await play
        except Interrupted:
            return
        except SmallestError as exc:
            if turn.interrupted:
                return
            self.emit("error", f"Smallest AI TTS: {describe(exc)}")
            raise
        finally:
            await self._end_turn(turn)

    async def _raise_text_failure(self, turn: TurnT) -> None:
        """Raise the failure of the turn's text iterator, if it failed (it is the turn's)."""
        producer = turn.producer
        if producer is None:
            return
        await asyncio.wait({producer}, timeout=self.timeout)
        if producer.done() and not producer.cancelled():
            failure = producer.exception()
            if failure is not None:
                raise failure from None

    async def _late(self, sock: SocketT | None) -> NoReturn:
        """The server owed audio and sent nothing in time: drop the socket, fail the turn."""
        if sock is not None:
            await self._drop(sock)
        raise SmallestError(
            f"no audio from {self.SERVER} within {self.timeout:g}s of the text it was sent",
            kind=ErrorKind.TIMEOUT,
        )

    async def _push(self, turn: TurnT, pcm: bytes) -> None:
        """``pcm`` to the track; the turn's first audio is reported to the pipeline first."""
        if turn.interrupted:
            raise Interrupted
        track = self.audio_track
        if not pcm or track is None:
            return
        if not turn.first_audio:
            turn.first_audio = True
            if self._first_audio_callback is not None:
                await self._first_audio_callback()
            if turn.interrupted:
                raise Interrupted
        await track.add_new_bytes(pcm)

    async def _end_turn(self, turn: TurnT) -> None:
        producer = turn.producer
        if producer is not None:
            producer.cancel()  # nothing when it is done
            with contextlib.suppress(BaseException):
                await producer
        await self._after_turn(turn)
        if self._turn is turn:
            self._turn = None

    async def _after_turn(self, turn: TurnT) -> None:
        """What a subclass leaves tidy once a turn's text reader stopped."""

    def _track_rate(self) -> int:
        rate = getattr(self.audio_track, "sample_rate", TRACK_SAMPLE_RATE)
        return rate if isinstance(rate, int) and rate > 0 else TRACK_SAMPLE_RATE


async def as_stream(text: TextInput) -> AsyncIterator[str | FlushMarker]:
    """A turn's text as a stream, whether it was given whole or as one."""
    if isinstance(text, str):
        yield text
        return
    async for item in text:
        yield item


async def sentences(
    text: AsyncIterator[str | FlushMarker], turn: TurnState
) -> AsyncGenerator[str, None]:
    """The caller's text cut into sentences as it arrives (a ``FlushMarker`` ends one
    early); blank ones are skipped, and nothing more comes once the turn is interrupted."""
    segmenter = SentenceSegmenter()
    async for item in text:
        if turn.interrupted:
            return
        if isinstance(item, FlushMarker):
            pieces = segmenter.flush()
        elif isinstance(item, str):
            pieces = segmenter.push(check_text(item))
        else:
            continue
        for piece in pieces:
            if piece.strip():
                yield piece
    for piece in segmenter.flush():
        if piece.strip():
            yield piece
