"""The STT audio a new socket must be sent again: everything since the last final."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable


class ReplayBuffer:
    """Audio chunks not yet covered by a final transcript, in order, bounded.

    Positions are absolute byte counts since the stream began. Chunks from
    :meth:`next_unsent` on are not yet sent on the current socket; :meth:`resend_all`
    makes every buffered chunk unsent again (a new socket). Chunks leave the buffer when
    a final covers them or when it is full; ``on_released`` is told their size.
    """

    def __init__(self, max_bytes: int, on_released: Callable[[int], None]) -> None:
        self._chunks: deque[bytes] = deque()
        self._max_bytes = max_bytes
        self._on_released = on_released
        self._released = 0
        """Absolute position of the first buffered byte."""
        self._buffered = 0
        """Absolute position just past the last buffered byte."""
        self._sent_chunks = 0
        """How many buffered chunks, from the oldest, were sent on the current socket."""
        self._sent_bytes = 0

    @property
    def sent_position(self) -> int:
        """Absolute position just past the last byte sent on the current socket."""
        return self._released + self._sent_bytes

    @property
    def unsent(self) -> bool:
        """Whether some buffered audio is not yet sent on the current socket."""
        return self._sent_chunks < len(self._chunks)

    def add(self, chunk: bytes) -> None:
        """Buffer ``chunk`` (not yet sent); the oldest audio goes when the buffer is full."""
        self._chunks.append(chunk)
        self._buffered += len(chunk)
        while self._buffered - self._released > self._max_bytes and len(self._chunks) > 1:
            self._release_oldest()

    def next_unsent(self) -> bytes | None:
        """The oldest chunk not yet sent on the current socket."""
        return self._chunks[self._sent_chunks] if self.unsent else None

    def mark_sent(self) -> None:
        """:meth:`next_unsent`'s chunk went out."""
        self._sent_bytes += len(self._chunks[self._sent_chunks])
        self._sent_chunks += 1

    def release_to(self, position: int) -> None:
        """A final covers the audio before ``position``: it is never sent again."""
        while (
            self._sent_chunks and self._chunks and self._released + len(self._chunks[0]) <= position
        ):
            self._release_oldest()

    def release_sent(self) -> None:
        """A final covers everything sent so far."""
        self.release_to(self.sent_position)

    def resend_all(self) -> None:
        """A new socket: everything buffered goes out again, oldest first."""
        self._sent_chunks = 0
        self._sent_bytes = 0

    def _release_oldest(self) -> None:
        chunk = self._chunks.popleft()
        self._released += len(chunk)
        if self._sent_chunks:
            self._sent_chunks -= 1
            self._sent_bytes -= len(chunk)
        self._on_released(len(chunk))
