"""The I/O loop, written once: read a frame → hand it over (the owner feeds its protocol,
dispatches the events and sends what the protocol queued) → sleep until the next frame
or the protocol's next deadline.

No timer per receive: the loop waits on the socket with no timeout while nothing is due,
and one timer is armed at the earliest deadline it was told of (re-armed only when an
earlier one comes). A deadline that moved later fires early and harmlessly: the owner
decides what is due and names the next one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from smallest_core.aio.transport import Transport

OnFrame = Callable[[str | bytes, float], Awaitable[None]]
"""Called with each data frame and ``time.monotonic()`` at its arrival."""
OnDeadline = Callable[[float], Awaitable[float | None]]
"""Called at a deadline with ``time.monotonic()``; returns the next deadline, if any."""

_MIN_WAIT_S = 0.001


class SocketReader:
    """Reads one :class:`~smallest_core.aio.Transport` until it closes (see the module)."""

    __slots__ = (
        "_baseline",
        "_due",
        "_on_deadline",
        "_on_frame",
        "_parked",
        "_stopped",
        "_task",
        "_timer",
        "_when",
        "_woke",
        "transport",
    )

    def __init__(self, transport: Transport, on_frame: OnFrame, on_deadline: OnDeadline) -> None:
        self.transport = transport
        self._on_frame = on_frame
        self._on_deadline = on_deadline
        self._when: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._due = False
        self._parked = False
        self._woke = False
        self._stopped = False
        self._task: asyncio.Task[object] | None = None
        self._baseline = 0

    def wake_by(self, when: float | None) -> None:
        """Make sure the loop calls ``on_deadline`` no later than ``when`` (monotonic
        seconds); nothing changes when a timer is already armed as early."""
        if when is None or (self._when is not None and self._when <= when):
            return
        if self._timer is not None:
            self._timer.cancel()
        self._when = when
        delay = max(_MIN_WAIT_S, when - time.monotonic())
        self._timer = asyncio.get_running_loop().call_later(delay, self._fire)

    def stop(self) -> None:
        """End :meth:`run` once the current callback returns (call from a callback)."""
        self._stopped = True

    async def run(self) -> None:
        """Read until the transport closes or :meth:`stop`; exceptions of the callbacks
        propagate."""
        task = self._task = asyncio.current_task()
        assert task is not None
        self._baseline = task.cancelling()
        receive, on_frame, clock = self.transport.receive, self._on_frame, time.monotonic
        try:
            while not self._stopped:
                if self._due:
                    self._due = False
                    self.wake_by(await self._on_deadline(clock()))
                    continue
                self._parked = True
                try:
                    data = await receive()
                except asyncio.CancelledError:
                    if not self._woke:
                        raise
                    self._woke = False
                    if task.uncancel() > self._baseline:
                        raise  # cancelled from outside as well
                    continue
                finally:
                    self._parked = False
                if data is None:
                    return
                now = clock()
                await on_frame(data, now)
                when = self._when
                if when is not None and now >= when:  # a flood never let the timer run
                    self._disarm()
                    self._due = True
        finally:
            self._disarm()
            self._task = None

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._when = None

    def _fire(self) -> None:
        self._timer = self._when = None
        self._due = True
        task = self._task
        if self._parked and task is not None and not self._woke:
            self._woke = True
            task.cancel()  # out of the receive (cancel-safe: the frame stays queued)
