"""One ``synthesize()`` call on a Lightning v4 session, for :class:`SmallestAITTSV4`.

The caller's text is cut into sentences as it arrives and each is spoken as one v4 turn
as soon as it is complete (the server speaks them in order); the player pushes their
audio to the track in order. A session that fails before any audio was heard is replaced
and the unfinished sentences are spoken again (the core's replay rule); silence while
audio is owed fails the call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from videosdk.agents import FlushMarker

from smallest_core import (
    LightningV4Options,
    LightningV4Session,
    SmallestError,
    TurnAudio,
    TurnEnded,
    TurnFailed,
    connection_error,
    should_replay,
)
from smallest_core.aio import V4Socket
from smallest_videosdk._playback import TrackAudio
from smallest_videosdk._tts_base import Interrupted, TrackTTS, TurnState, sentences

logger = logging.getLogger("smallest_videosdk.tts")

_SPOKE = object()
"""Queued after each ``speak``: the player's wait for audio starts again from there."""
_INPUT_DONE = object()
"""Queued once the caller's text is exhausted (or its iterator failed)."""
_DEAD = object()
"""Queued when a sentence found the session gone: the player replays it or fails."""
_NOTHING_HELD = object()


@dataclass(eq=False)
class V4Turn(TurnState):
    """One ``synthesize()`` call: its sentences, each spoken as one v4 turn."""

    options: LightningV4Options = field(kw_only=True)
    queue: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)
    socket: V4Socket | None = None
    texts: dict[str, str] = field(default_factory=dict)
    """Every sentence spoken, by v4 turn id, in order."""
    pending: set[str] = field(default_factory=set)
    """v4 turns not yet over."""
    heard: bool = False
    replays: int = 0
    input_done: bool = False


class V4Turns(TrackTTS[V4Turn, V4Socket, LightningV4Options]):
    """The session half of :class:`SmallestAITTSV4`."""

    SERVICE = "Lightning v4"
    SERVER = "Lightning v4"

    def _fits(self, sock: V4Socket, options: LightningV4Options) -> bool:
        """Usable, and opened for these options (v4 fixes the voice per session)."""
        return sock.usable and sock.session.options == options

    async def _connect(self, options: LightningV4Options) -> V4Socket:
        ws = await self._open_ws(options.url(self._account.endpoints), "Lightning v4")
        return V4Socket(ws, LightningV4Session(options), logger)

    async def _stream_turn(self, turn: V4Turn, text: AsyncIterator[str | FlushMarker]) -> None:
        """Speak the turn's sentences on a live session and push their audio until every
        one has ended. Audio already queued goes to the track in one push."""
        turn.socket = await self._live(turn.options)
        if turn.interrupted:
            return
        turn.producer = asyncio.create_task(self._produce(turn, text))
        audio: TrackAudio | None = None
        queue = turn.queue
        held: Any = _NOTHING_HELD  # an event taken while batching audio
        while not (turn.input_done and not turn.pending):
            if held is not _NOTHING_HELD:
                event, held = held, _NOTHING_HELD
            else:
                try:
                    async with asyncio.timeout(self.timeout if turn.pending else None):
                        event = await queue.get()
                except TimeoutError:
                    await self._late(turn.socket)
            if event is None or turn.interrupted:
                raise Interrupted
            if event is _INPUT_DONE:
                turn.input_done = True
                await self._raise_text_failure(turn)
            elif event is _DEAD:
                sock = turn.socket
                if sock is not None and not sock.usable:
                    lost = connection_error("the Lightning v4 session closed")
                    await self._replay(turn, sock.failure or lost)
            elif isinstance(event, TurnAudio) and event.turn_id in turn.pending:
                turn.heard = True
                if audio is None:
                    rate = turn.socket.session.sample_rate if turn.socket else 0
                    audio = TrackAudio(rate, self._track_rate())
                parts = [event.audio]
                while not queue.empty():
                    following = queue.get_nowait()
                    if not isinstance(following, TurnAudio):
                        held = following
                        break
                    parts.append(following.audio)
                await self._push(turn, audio.convert(b"".join(parts)))
            elif isinstance(event, TurnEnded):
                turn.pending.discard(event.turn_id)
            elif isinstance(event, TurnFailed) and event.turn_id in turn.pending:
                await self._replay(turn, event.error)
        if audio is not None:
            await self._push(turn, audio.finish())

    async def _produce(self, turn: V4Turn, text: AsyncIterator[str | FlushMarker]) -> None:
        """Speak each sentence of the caller's text as soon as it is complete."""
        try:
            async with contextlib.aclosing(sentences(text, turn)) as pieces:
                async for sentence in pieces:
                    await self._speak(turn, sentence)
        finally:
            turn.queue.put_nowait(_INPUT_DONE)

    async def _speak(self, turn: V4Turn, sentence: str) -> None:
        """One sentence as one v4 turn; the player's wait for audio starts again now."""
        sock = turn.socket
        if turn.interrupted or sock is None:
            return
        if not sock.usable:
            turn_id = uuid.uuid4().hex[:16]  # never sent: it only marks what was lost
            turn.texts[turn_id] = sentence
            turn.pending.add(turn_id)
            turn.queue.put_nowait(_DEAD)
            return
        turn_id = sock.speak(sentence, turn.queue.put_nowait)
        turn.texts[turn_id] = sentence
        turn.pending.add(turn_id)
        turn.queue.put_nowait(_SPOKE)
        await sock.send_pending()

    async def _replay(self, turn: V4Turn, error: SmallestError) -> None:
        """Speak every unfinished sentence again on a new session when the session failed
        before any audio of the call was heard (the core's replay rule); else it fails."""
        if not should_replay(error, audio_received=turn.heard, replays=turn.replays):
            raise error
        turn.replays += 1
        logger.info("Lightning v4 failed before any audio (%s); replaying", error.message)
        old = turn.socket
        if old is not None:
            await self._drop(old)
        unfinished = [text for turn_id, text in turn.texts.items() if turn_id in turn.pending]
        turn.pending.clear()
        turn.socket = await self._live(turn.options)
        for sentence in unfinished:
            await self._speak(turn, sentence)

    async def _after_turn(self, turn: V4Turn) -> None:
        sock = turn.socket
        if turn.pending and sock is not None and sock.usable and not turn.interrupted:
            sock.interrupt()  # a failed call: stop what it still had queued
            await sock.send_pending()
