"""A LiveKit voice agent on Smallest AI (Lightning TTS, Pulse STT).

Offline, one command, no LiveKit server and no API key::

    python examples/livekit/agent.py offline

starts the Smallest emulator in-process, speaks a greeting through ``TTS.stream()``
(a prewarmed, pooled socket), feeds that audio to ``STT.stream()`` and prints what was
heard. Against the real API and a LiveKit server (``SMALLEST_API_KEY``, ``LIVEKIT_URL``,
``LIVEKIT_API_KEY``, ``LIVEKIT_API_SECRET`` set), run the ``server`` below with the
livekit-agents entry point (or the LiveKit CLI, ``lk agent ...``)::

    python -m livekit.agents start examples/livekit/agent.py --dev
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from typing import Any

from livekit import agents, rtc
from livekit.agents import Agent, AgentServer, AgentSession, JobContext, JobProcess, utils

from smallest_livekit import STT, TTS

GREETING = "Hello from Smallest, how can I help you today?"
START = "python -m livekit.agents start examples/livekit/agent.py --dev"


def prewarm(proc: JobProcess) -> None:
    """Build the plugins once per worker process (sockets open when the job starts)."""
    proc.userdata["tts"] = TTS()
    proc.userdata["stt"] = STT()


server = AgentServer(setup_fnc=prewarm)


@server.rtc_session()
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


def _real_speech() -> bool:
    """True when the emulator's ``speech`` extra (espeak-ng, pocketsphinx) is installed."""
    return all(importlib.util.find_spec(m) for m in ("espeakng_loader", "pocketsphinx"))


async def offline_turn() -> str:
    """One voice turn against the emulator: TTS audio in, STT transcript out."""
    from smallest_emulator import Emulator, EmulatorConfig

    speech = _real_speech()
    config = EmulatorConfig(speed=0.0, complete_backoff_ms=0)
    if speech:  # espeak-ng speaks; pocketsphinx listens for the greeting (a one-phrase grammar)
        config = config.copy(engine="espeak", stt_engine="pocketsphinx", transcript=(GREETING,))
    async with Emulator(config) as emu, utils.http_context.open():
        tts_engine = TTS(base_url=emu.base_url, sample_rate=16000)
        stt_engine = STT(base_url=emu.base_url, sample_rate=16000)
        tts_engine.prewarm()
        try:
            async with tts_engine.stream() as speech_stream:
                for token in GREETING.split(" "):
                    speech_stream.push_text(token + " ")
                speech_stream.end_input()
                frames = [ev.frame async for ev in speech_stream]
            silence = rtc.AudioFrame(b"\0\0" * 16000, 16000, 1, 16000)
            listen = stt_engine.stream()
            try:
                for frame in [*frames, silence]:
                    listen.push_frame(frame)
                listen.end_input()
                heard = [
                    ev.alternatives[0].text
                    async for ev in listen
                    if ev.type is agents.stt.SpeechEventType.FINAL_TRANSCRIPT
                ]
            finally:
                await listen.aclose()
        finally:
            await tts_engine.aclose()
            await stt_engine.aclose()
    print(f"agent said:  {GREETING}")
    if speech:
        print("voice:       espeak-ng speech; the STT is pocketsphinx listening for the greeting")
    else:
        print("voice:       the emulator's test tone, not speech; its STT reads the text back")
        print("             from the tone (pip install 'smallest-emulator[speech]' for speech)")
    print(f"STT heard:   {' '.join(heard)}")
    print(f"TTS sockets: {tts_engine.sockets_opened}")
    return " ".join(heard)


def main() -> int:
    if sys.argv[1:] == ["offline"]:
        return 0 if asyncio.run(offline_turn()) else 1
    print(
        "usage: python examples/livekit/agent.py offline\n"
        f"   or, with LiveKit and Smallest credentials set: {START}",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    sys.exit(main())
