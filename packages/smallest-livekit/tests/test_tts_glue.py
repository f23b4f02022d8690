"""The TTS streams on LiveKit's own machinery: sockets from ``ConnectionPool.connection()``
(kept after a clean turn or a barge-in, dropped after a failure that blames them), every
task ended on close, and modules that import one another in one direction only."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path
from typing import Any

import pytest
from livekit.agents import APIConnectOptions, APIStatusError, utils
from livekit_kit import collect, expected_pcm, fast_config, frames_pcm, key, speak, until

from smallest_emulator import Emulator
from smallest_livekit import TTS, LightningV4TTS

NO_RETRY = APIConnectOptions(max_retry=0, timeout=5.0)
LONG = " ".join(["This sentence is long enough to take a while to play out loud."] * 6)
OURS = ("smallest.", "TTS._main_task")
"""Names of the tasks a stream starts (the framework's main task, the plugin's own)."""
READERS: tuple[list[str], ...] = ([], ["smallest.tts.reader"], ["smallest.v4.reader"])
"""What may run once a stream closed: nothing, or its pooled socket's reader."""
PACKAGE = Path(__file__).parents[1] / "src" / "smallest_livekit"


def _running(prefixes: tuple[str, ...] = OURS) -> list[str]:
    return sorted(
        t.get_name()
        for t in asyncio.all_tasks()
        if not t.done() and t.get_name().startswith(prefixes)
    )


async def _speak_once(engine: TTS, text: str) -> None:
    async with engine.stream(conn_options=NO_RETRY) as stream:
        stream.push_text(text)
        stream.end_input()
        await collect(stream)


async def test_a_clean_turn_returns_its_socket_and_a_failed_one_drops_it(emu: Emulator) -> None:
    engine = TTS(api_key=key(), base_url=emu.base_url)
    errors: list[Any] = []
    engine.on("error", errors.append)
    try:
        for text in ("First reply.", "Second reply."):
            events = await speak(engine, [text])
            assert frames_pcm(events) == expected_pcm(emu)
        assert engine.sockets_opened == 1  # the clean turn gave its socket back
        engine.update_options(voice_id="no_such_voice")  # the server fails the context
        with pytest.raises(APIStatusError, match="no_such_voice"):
            await _speak_once(engine, "Refused.")
        engine.update_options(voice_id="avery")
        events = await speak(engine, ["Third reply."])
        assert frames_pcm(events) == expected_pcm(emu)
    finally:
        await engine.aclose()
    assert [e.recoverable for e in errors] == [False]
    assert engine.sockets_opened == 2  # the failed turn's socket was not used again
    assert emu.ws_connections.per_route.get("tts") == 2


async def test_a_socket_closed_while_pooled_is_replaced_without_an_error(emu: Emulator) -> None:
    engine = TTS(api_key=key(idle_timeout_s=0.2), base_url=emu.base_url)
    engine._idle_timeout_s = 0  # no ?timeout=, so the server's own (0.2 s) applies
    errors: list[Any] = []
    engine.on("error", errors.append)
    try:
        await speak(engine, ["Before the pause."])
        await until(lambda: emu.ws_connections.open_per_route.get("tts") == 0, "the idle close")
        events = await speak(engine, ["After the pause."])
    finally:
        await engine.aclose()
    assert frames_pcm(events) == expected_pcm(emu)
    assert errors == []
    assert engine.sockets_opened == 2


@pytest.mark.parametrize("model", ["v3.1", "v4"])
async def test_closing_a_stream_mid_turn_ends_its_tasks_and_keeps_the_socket(model: str) -> None:
    paced = fast_config(speed=1.0, chunk_bytes=960)
    async with Emulator(config=paced) as emu, utils.http_context.open():
        engine: TTS | LightningV4TTS
        if model == "v4":
            engine = LightningV4TTS(api_key=key(), base_url=emu.base_url)
        else:
            engine = TTS(api_key=key(), base_url=emu.base_url)
        try:
            stream = engine.stream(conn_options=NO_RETRY)
            stream.push_text(LONG)
            stream.end_input()
            async for _ev in stream:
                break  # audio is playing: the user barges in
            await stream.aclose()
            left = _running()
            answer = await speak(engine, ["Sorry, go ahead."])
            spoken = emu.tts_log[-1]
        finally:
            await engine.aclose()
        assert _running() == []  # closing the engine stopped the pooled socket too
    assert left in READERS  # the stream's tasks ended; the pooled socket reads on
    assert spoken.text == "Sorry, go ahead."
    assert frames_pcm(answer) == bytes(spoken.pcm)
    route = "lightning-v4" if model == "v4" else "tts"
    assert emu.ws_connections.per_route.get(route) == 1  # the barge-in kept the socket


def _local_imports(path: Path) -> set[str]:
    """Modules of this package ``path`` imports, ``TYPE_CHECKING`` blocks included."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
    return found


def test_the_tts_modules_import_one_another_in_one_direction() -> None:
    graph = {path.stem: _local_imports(path) for path in PACKAGE.glob("*.py")}
    tts_side = {m for m in graph if not m.startswith(("stt", "_stt", "_pulse", "_keyterms"))}
    cycles: list[list[str]] = []

    def walk(module: str, path: list[str]) -> None:
        for dep in sorted(graph.get(module, set()) & tts_side):
            if dep in path:
                cycles.append([*path[path.index(dep) :], dep])
            else:
                walk(dep, [*path, dep])

    for module in sorted(tts_side):
        walk(module, [module])
    assert cycles == []
