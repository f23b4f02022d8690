"""Run the emulator: :class:`Emulator` (async context manager) and :class:`EmulatorThread`."""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType
from typing import Any

from aiohttp import web

from smallest_emulator.app import build_app
from smallest_emulator.config import EmulatorConfig
from smallest_emulator.records import SttRecord, TtsRecord, WsCounters
from smallest_emulator.state import EmulatorState


class Emulator:
    """A Waves-compatible server on ``host:port`` (port 0 = pick a free port).

    ``async with Emulator(config=EmulatorConfig(...)) as emu:`` then use ``emu.base_url``.
    ``emu.config`` may be replaced or mutated between turns.
    """

    def __init__(
        self, config: EmulatorConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self._host, self._port = host, port
        self._state = EmulatorState(config or EmulatorConfig())
        self._runner: web.AppRunner | None = None
        self.port: int = 0

    @property
    def config(self) -> EmulatorConfig:
        """The live server configuration."""
        return self._state.config

    @config.setter
    def config(self, value: EmulatorConfig) -> None:
        self._state.config = value

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT`` (use ``ws://`` for sockets, see :attr:`ws_url`)."""
        return f"http://{self._host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """``ws://HOST:PORT``."""
        return f"ws://{self._host}:{self.port}"

    @property
    def tts_log(self) -> list[TtsRecord]:
        """One record per TTS context (WS) or request (HTTP/SSE)."""
        return self._state.tts_log

    @property
    def stt_log(self) -> list[SttRecord]:
        """One record per STT session or request."""
        return self._state.stt_log

    @property
    def requests(self) -> list[str]:
        """One-line request summaries (never containing the API key)."""
        return self._state.requests

    @property
    def ws_connections(self) -> WsCounters:
        """WebSocket counters (opened_total, open_now, per_route)."""
        return self._state.ws_connections

    @property
    def state(self) -> EmulatorState:
        """The raw shared state (advanced use)."""
        return self._state

    def reset(self) -> None:
        """Clear logs and counters."""
        self._state.reset()

    async def start(self) -> None:
        """Start serving."""
        self._state.shutdown = asyncio.Event()
        app = build_app(self._state)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self._port

    async def stop(self) -> None:
        """Stop serving; open sockets are closed with 1001."""
        if self._runner is not None:
            self._state.shutdown.set()
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


class EmulatorThread:
    """Run an :class:`Emulator` on a background thread (for synchronous code).

    ``with EmulatorThread(config) as emu: requests.post(emu.base_url + ...)``
    """

    def __init__(self, config: EmulatorConfig | None = None, **kwargs: Any) -> None:
        self.emulator = Emulator(config, **kwargs)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """Base URL of the running server."""
        return self.emulator.base_url

    def start(self) -> None:
        """Start the loop thread and the server."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.emulator.start(), self._loop).result(30)

    def stop(self) -> None:
        """Stop the server and the thread."""
        asyncio.run_coroutine_threadsafe(self.emulator.stop(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def __enter__(self) -> Emulator:
        self.start()
        return self.emulator

    def __exit__(self, *exc: object) -> None:
        self.stop()
