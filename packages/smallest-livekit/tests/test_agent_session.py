"""A full AgentSession voice turn: fake audio I/O and LLM, our STT and TTS on the emulator."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from livekit import rtc
from livekit.agents import Agent, AgentSession, APIConnectOptions, llm
from livekit.agents.types import TimedString
from livekit.agents.utils import is_given
from livekit.agents.voice import io
from livekit_kit import key
from stt_audio import frames, utterance

from smallest_core import DEFAULT_VOICE, Affect
from smallest_emulator import Emulator
from smallest_livekit import STT, TTS, LightningV4TTS

REPLY = ["Sure", ",", " I", " can", " help", " with", " that", "."]


class FakeLLM(llm.LLM[Any]):
    """Streams a fixed reply token by token."""

    def chat(self, *, chat_ctx: llm.ChatContext, tools: Any = None, **_: Any) -> llm.LLMStream:
        return _FakeStream(
            self, chat_ctx=chat_ctx, tools=tools or [], conn_options=APIConnectOptions()
        )


class _FakeStream(llm.LLMStream):
    async def _run(self) -> None:
        for token in REPLY:
            self._event_ch.send_nowait(
                llm.ChatChunk(id="fake", delta=llm.ChoiceDelta(role="assistant", content=token))
            )


class FakeAudioInput(io.AudioInput):
    """Audio frames from a queue (a microphone stand-in)."""

    def __init__(self) -> None:
        super().__init__(label="fake-mic")
        self.queue: asyncio.Queue[rtc.AudioFrame] = asyncio.Queue()

    async def __anext__(self) -> rtc.AudioFrame:
        return await self.queue.get()


class FakeAudioOutput(io.AudioOutput):
    """Collects played frames; each flushed segment finishes playing at once."""

    def __init__(self) -> None:
        super().__init__(label="fake-speaker", capabilities=io.AudioOutputCapabilities(pause=False))
        self.pcm = bytearray()
        self.finished = asyncio.Event()
        self._pushed = 0.0

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        if not self._pushed:
            self.on_playback_started(created_at=time.time())
        self._pushed += frame.duration
        self.pcm += frame.data.tobytes()

    def flush(self) -> None:
        super().flush()
        self.on_playback_finished(playback_position=self._pushed, interrupted=False)
        self._pushed = 0.0
        self.finished.set()

    def clear_buffer(self) -> None:
        self.on_playback_finished(playback_position=self._pushed, interrupted=True)
        self._pushed = 0.0


class FakeTextOutput(io.TextOutput):
    """Collects the agent transcript as LiveKit forwards it (timed words or plain text)."""

    def __init__(self) -> None:
        super().__init__(label="fake-transcript", next_in_chain=None)
        self.pieces: list[str] = []

    async def capture_text(self, text: str) -> None:
        self.pieces.append(text)

    def flush(self) -> None:
        pass


async def _voice_turn(
    emu: Emulator, tts_engine: Any, **options: Any
) -> tuple[list[tuple[str, str | None]], FakeAudioOutput, FakeTextOutput]:
    """One user utterance and the agent's spoken reply through a real AgentSession."""
    stt_engine = STT(api_key=key(transcript="can you help me"), base_url=emu.base_url)
    mic, speaker, transcript = FakeAudioInput(), FakeAudioOutput(), FakeTextOutput()
    session: AgentSession[Any] = AgentSession(
        stt=stt_engine, tts=tts_engine, llm=FakeLLM(), turn_detection="stt", **options
    )
    session.input.audio = mic
    session.output.audio = speaker
    session.output.transcription = transcript
    items: list[Any] = []
    replied = asyncio.Event()

    def on_item(ev: Any) -> None:
        if isinstance(ev.item, llm.ChatMessage):
            items.append(ev.item)
            if ev.item.role == "assistant":
                replied.set()

    session.on("conversation_item_added", on_item)
    try:
        await session.start(agent=Agent(instructions="Help the user."))
        for frame in frames(utterance("can you help me", silence_s=1.5), ms=20):
            mic.queue.put_nowait(frame)
        async with asyncio.timeout(20):
            await speaker.finished.wait()
            await replied.wait()  # the assistant item follows playback_finished
    finally:
        await session.aclose()
        await tts_engine.aclose()
        await stt_engine.aclose()
    return [(item.role, item.text_content) for item in items], speaker, transcript


async def test_voice_turn_through_agent_session(emu: Emulator) -> None:
    tts_engine = TTS(api_key=key(), base_url=emu.base_url)
    roles, speaker, transcript = await _voice_turn(emu, tts_engine)
    assert roles[0] == ("user", "can you help me")
    assert roles[1] == ("assistant", "".join(REPLY))
    assert "".join(transcript.pieces) == "".join(REPLY)
    rec = emu.tts_log[-1]
    assert rec.text == "".join(REPLY)
    assert bytes(speaker.pcm).startswith(bytes(rec.pcm)[: len(rec.pcm) - 960])
    assert len(speaker.pcm) >= len(rec.pcm)


@pytest.mark.parametrize("voice", [DEFAULT_VOICE, "sophia"])
async def test_aligned_transcript_with_and_without_word_timestamps(
    emu: Emulator, voice: str
) -> None:
    """With word timestamps the transcript is the timed words; for a voice the server times
    no word of, LiveKit forwards the reply text itself. Either way the room and the chat
    context get the whole reply."""
    tts_engine = TTS(api_key=key(), base_url=emu.base_url, voice_id=voice, word_timestamps=True)
    roles, speaker, transcript = await _voice_turn(emu, tts_engine, use_tts_aligned_transcript=True)
    assert roles[1] == ("assistant", "".join(REPLY))
    assert "".join(transcript.pieces) == "".join(REPLY)
    starts = [
        p.start_time
        for p in transcript.pieces
        if isinstance(p, TimedString) and is_given(p.start_time)
    ]
    if voice == DEFAULT_VOICE:  # every piece is a timed word, in order
        assert len(starts) == len(transcript.pieces) > 1
        assert starts == sorted(starts) and starts[-1] > 0
    else:
        assert starts == []
    rec = emu.tts_log[-1]
    assert (rec.voice_id, rec.text) == (voice, "".join(REPLY))
    assert len(speaker.pcm) >= len(rec.pcm)


async def test_lightning_v4_voice_turn_through_agent_session(emu: Emulator) -> None:
    tts_engine = LightningV4TTS(api_key=key(), base_url=emu.base_url, sample_rate=24000)
    roles, speaker, _ = await _voice_turn(emu, tts_engine)
    assert roles[1] == ("assistant", "".join(REPLY))
    turns = [r for r in emu.tts_log if r.transport == "v4"]
    assert "".join(r.text for r in turns) == "".join(REPLY)
    spoken = b"".join(bytes(r.pcm) for r in turns)
    assert bytes(speaker.pcm).startswith(spoken[: len(spoken) - 960])
    assert len(speaker.pcm) >= len(spoken)


async def test_lightning_v32_voice_turn_through_agent_session(emu: Emulator) -> None:
    """AgentSession speaks a TTS without streaming sentence by sentence, with its affect."""
    tts_engine = TTS(
        base_url=emu.base_url,
        model="lightning-v3.2",
        voice_id="v32voice",
        affect=Affect(emotion="happy"),
    )
    roles, speaker, _ = await _voice_turn(emu, tts_engine)
    assert roles[1] == ("assistant", "".join(REPLY))
    rec = emu.tts_log[-1]
    assert rec.text == "".join(REPLY) and rec.affect == {"emotion": "happy"}
    assert bytes(speaker.pcm).startswith(bytes(rec.pcm)[: len(rec.pcm) - 960])
