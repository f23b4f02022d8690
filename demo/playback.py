"""The turn's TTS audio played into our STT as it arrives, at the pace a caller would hear it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from turn import Log, Turn

Send = Callable[[bytes], Awaitable[None]]
"""Hands one frame of 16-bit mono PCM (at ``turn.sample_rate``) to the STT."""

FRAME_MS = 20
TRAILING_SILENCE_S = 1.0
"""Silence played after the reply, so the STT hears the utterance end."""
STALL_TIMEOUT_S = 30.0


class Playback:
    """Plays ``turn.pcm`` frame by frame from the first audio, paced by ``turn.pace``.

    When playback catches up with the audio received it waits (a listener would hear a gap)
    and resumes when more arrives. After :meth:`finish` it plays what is left, then
    :data:`TRAILING_SILENCE_S` of silence. ``turn.played`` records each stretch played without
    a stall; the events ``"speech played"`` and ``"silence played"`` when the reply's last
    sample and the silence after it have played.
    """

    def __init__(self, turn: Turn, send: Send, log: Log) -> None:
        self.turn = turn
        self.send = send
        self.log = log
        self.position = 0
        self._wake = asyncio.Event()
        self._finished = False
        self._step = turn.sample_rate * FRAME_MS // 1000 * 2

    def wake(self) -> None:
        """More audio arrived."""
        self._wake.set()

    def finish(self) -> None:
        """No more audio will arrive."""
        self._finished = True
        self._wake.set()

    async def run(self) -> None:
        """Play until :meth:`finish` and the audio run out, then the trailing silence."""
        turn, due = self.turn, 0.0
        while True:
            ready = len(turn.pcm) - self.position
            if ready >= self._step or (self._finished and ready > 0):
                frame = bytes(turn.pcm[self.position : self.position + self._step])
                due = await self._play(frame, due, self.position)
                self.position += len(frame)
                continue
            if self._finished:
                break
            self._wake.clear()
            await asyncio.wait_for(self._wake.wait(), STALL_TIMEOUT_S)
        if turn.played:
            turn.events["speech played"] = due
            self.log(
                f"reply played into the STT; now {TRAILING_SILENCE_S:.0f} s of silence, "
                "as when a caller stops talking"
            )
        silence = b"\0" * self._step
        for _ in range(int(TRAILING_SILENCE_S * 1000 / FRAME_MS)):
            due = await self._play(silence, due, None)
        turn.events["silence played"] = due

    async def _play(self, frame: bytes, due: float, position: int | None) -> float:
        """Send ``frame`` when it is due; return when the next frame is due."""
        turn = self.turn
        now = turn.now()
        if position is not None and (not turn.played or now - due > FRAME_MS / 1000):
            due = now  # the first frame, or after a stall: playback (re)starts now
            turn.played.append(
                (now, position / 2 / turn.sample_rate, position / 2 / turn.sample_rate)
            )
        if turn.pace > 0:
            await asyncio.sleep(max(0.0, due - now))
        await self.send(frame)
        seconds = len(frame) / 2 / turn.sample_rate
        if position is not None:
            wall, start, end = turn.played[-1]
            turn.played[-1] = (wall, start, end + seconds)
        return due + seconds / turn.pace if turn.pace > 0 else turn.now()


@contextlib.asynccontextmanager
async def playing(turn: Turn, send: Send, log: Log) -> AsyncIterator[Playback]:
    """Play the turn's audio into ``send`` while the body runs; on exit, play the rest."""
    playback = Playback(turn, send, log)
    turn.on_audio = playback.wake
    task = asyncio.create_task(playback.run())
    try:
        yield playback
    except BaseException:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise
    finally:
        turn.on_audio = None
    playback.finish()
    remaining = (len(turn.pcm) - playback.position) / 2 / turn.sample_rate
    await asyncio.wait_for(task, remaining / (turn.pace or 1) + TRAILING_SILENCE_S + 30)
