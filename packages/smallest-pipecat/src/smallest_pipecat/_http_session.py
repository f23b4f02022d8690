"""The aiohttp session of an HTTP service: opened when the pipeline starts, closed when it
stops, is cancelled or cleaned up (and opened on demand if a request comes first)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import aiohttp

if TYPE_CHECKING:
    from pipecat.processors.frame_processor import FrameProcessor as _Base
else:
    _Base = object


class HttpSession(_Base):
    """Mixin for a Pipecat service that talks HTTP (before the service's base class)."""

    _session: aiohttp.ClientSession | None
    _timeout: aiohttp.ClientTimeout

    def http(self) -> aiohttp.ClientSession:
        """The open session (opened now if the pipeline has not started it)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def start(self, frame: Any) -> None:
        """Open the HTTP session."""
        await super().start(frame)  # type: ignore[misc]
        self._session = aiohttp.ClientSession(timeout=self._timeout)

    async def stop(self, frame: Any) -> None:
        """Close the HTTP session (after the base class finished its work)."""
        await super().stop(frame)  # type: ignore[misc]
        await self._close_session()

    async def cancel(self, frame: Any) -> None:
        """Close the HTTP session."""
        await super().cancel(frame)  # type: ignore[misc]
        await self._close_session()

    async def cleanup(self) -> None:
        """Close the HTTP session."""
        await super().cleanup()  # type: ignore[no-untyped-call]
        await self._close_session()

    async def _close_session(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()
