"""A LiveKit voice agent on Smallest AI (Lightning TTS, Pulse STT).

Offline, one command, no LiveKit server and no API key::

    python examples/livekit/agent.py offline

starts the Smallest emulator in-process, speaks a greeting through ``TTS.stream()``
(a prewarmed, pooled socket), feeds that audio to ``STT.stream()`` and prints what was
heard. Against the real API and a LiveKit server (``SMALLEST_API_KEY``, ``LIVEKIT_URL``,
``LIVEKIT_API_KEY``, ``LIVEKIT_API_SECRET`` set)::

    python examples/livekit/agent.py dev
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from livekit import agents, rtc
from livekit.agents import Agent, AgentSession, JobContext, JobProcess, WorkerOptions, utils

from smallest_livekit import STT, TTS

GREETING = "Hello from Smallest, how can I help you today?"


def prewarm(proc: JobProcess) -> None:
    """Build the plugins once per worker process (sockets open when the job starts)."""
    proc.userdata["tts"] = TTS()
    proc.userdata["stt"] = STT()


async def entrypoint(ctx: JobContext) -> None:
    """Join the room and greet the user."""
    await ctx.connect()
    tts_engine: TTS = ctx.proc.userdata["tts"]
    tts_engine.prewarm()
    session: AgentSession[Any] = AgentSession(tts=tts_engine, stt=ctx.proc.userdata["stt"])
    await session.start(
        agent=Agent(instructions="You are a helpful voice assistant."), room=ctx.room
    )
    await session.say(GREETING)


async def offline_turn(base_url: str | None = None) -> str:
    """One voice turn against the emulator: TTS audio in, STT transcript out."""
    from smallest_emulator import Emulator, EmulatorConfig

    async with Emulator(EmulatorConfig(speed=0.0)) as emu, utils.http_context.open():
        url = base_url or emu.base_url
        tts_engine = TTS(base_url=url, sample_rate=16000)
        stt_engine = STT(base_url=url, sample_rate=16000)
        tts_engine.prewarm()
        try:
            async with tts_engine.stream() as speech:
                for token in GREETING.split(" "):
                    speech.push_text(token + " ")
                speech.end_input()
                frames = [ev.frame async for ev in speech]
            silence = rtc.AudioFrame(b"\0\0" * 16000, 16000, 1, 16000)
            listen = stt_engine.stream()
            for frame in [*frames, silence]:
                listen.push_frame(frame)
            listen.end_input()
            heard = [
                ev.alternatives[0].text
                async for ev in listen
                if ev.type is agents.stt.SpeechEventType.FINAL_TRANSCRIPT
            ]
            await listen.aclose()
        finally:
            await tts_engine.aclose()
            await stt_engine.aclose()
        print(f"agent said:  {GREETING}")
        print(f"STT heard:   {' '.join(heard)}")
        print(f"TTS sockets: {tts_engine.sockets_opened}")
        return " ".join(heard)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "offline":
        asyncio.run(offline_turn())
        return
    if not os.environ.get("SMALLEST_API_KEY"):
        sys.exit("set SMALLEST_API_KEY (or run: python examples/livekit/agent.py offline)")
    agents.cli.run_app(WorkerOptions(entrypoint_fnc=entrypoint, prewarm_fnc=prewarm))


if __name__ == "__main__":
    main()
