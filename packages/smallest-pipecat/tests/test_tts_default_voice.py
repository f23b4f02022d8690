"""The default voice, and voices without word timestamps, under the documented server.

The documented service times words only for a few voices (``DEFAULT_VOICE`` is one of
them). For any other voice the context must still end, back-to-back turns must still
follow each other, and the assistant's text must still reach the LLM context as
``TTSTextFrame``s.
"""

from __future__ import annotations

import itertools

from pipecat.frames.frames import (
    InterruptionFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    TTSAudioRawFrame,
    TTSSpeakFrame,
    TTSStoppedFrame,
    TTSTextFrame,
)
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import LLMContextAggregatorPair
from pipecat.processors.frame_processor import FrameDirection
from pipecat.transcriptions.language import Language
from pipecat.utils.string import TextPartForConcatenation, concatenate_aggregated_text
from pipecat_pipeline import Harness, Recorder
from tts_common import is_audio_of, synthesized

from smallest_core import DEFAULT_PRO_VOICE, DEFAULT_VOICE, catalog
from smallest_emulator import Emulator
from smallest_pipecat import SmallestHttpTTSService, SmallestTTSService

UNTIMED = "sophia"
"""A Lightning v3.1 voice the documented service sends no word timestamps for."""
SENTENCES = ["Hello there, friend. ", "This is the second sentence. ", "And a third one!"]
TURNS = ["First utterance here.", "Second one follows.", "Third and last."]
MAX_GAP_S = 0.05
"""Back-to-back turns: the next turn's audio follows the previous one's within this."""


def _service(emu: Emulator, voice: str | None = None) -> SmallestTTSService:
    settings = SmallestTTSService.Settings(language=Language.EN)
    if voice is not None:
        settings.voice = voice
    return SmallestTTSService(api_key="sk_test", base_url=emu.base_url, settings=settings)


def _joined(frames: list[TTSTextFrame]) -> str:
    parts = [
        TextPartForConcatenation(f.text, includes_inter_part_spaces=f.includes_inter_frame_spaces)
        for f in frames
    ]
    return concatenate_aggregated_text(parts)


def _gaps(seen: Recorder, ids: list[str]) -> list[float]:
    """Seconds between one context's last audio frame and the next one's first."""
    gaps = []
    for prev, nxt in itertools.pairwise(ids):
        last = max(s.at for s in seen.seen if is_audio_of(s.frame, prev))
        first = min(s.at for s in seen.seen if is_audio_of(s.frame, nxt))
        gaps.append(first - last)
    return gaps


def _end_delay(seen: Recorder, context_id: str) -> float:
    """Seconds between a context's last audio frame and its ``TTSStoppedFrame``."""
    last = max(s.at for s in seen.seen if is_audio_of(s.frame, context_id))
    (stop,) = [s.at for s in seen.timed(TTSStoppedFrame) if s.frame.context_id == context_id]
    return stop - last


def _assistant_messages(context: LLMContext) -> list[object]:
    return [m.get("content") for m in context.get_messages() if m.get("role") == "assistant"]


def _ms(values: list[float]) -> list[float]:
    return [round(v * 1000, 1) for v in values]


def test_default_voices_are_the_cores() -> None:
    tts = SmallestTTSService(api_key="k", base_url="http://127.0.0.1:9")
    assert tts._settings.voice == DEFAULT_VOICE
    assert tts._settings.model == catalog.LIGHTNING_V3_1
    assert DEFAULT_VOICE in catalog.WORD_TIMESTAMP_VOICES
    pro = SmallestTTSService(
        api_key="k",
        base_url="http://127.0.0.1:9",
        settings=SmallestTTSService.Settings(model="lightning_v3.1_pro"),
    )
    assert pro._settings.voice == DEFAULT_PRO_VOICE
    http = SmallestHttpTTSService(api_key="k", base_url="http://127.0.0.1:9")
    assert (http._settings.voice, http._settings.model) == (DEFAULT_VOICE, catalog.LIGHTNING_V3_1)
    http_pro = SmallestHttpTTSService(
        api_key="k",
        base_url="http://127.0.0.1:9",
        settings=SmallestHttpTTSService.Settings(model="lightning-v3.1-pro"),
    )
    assert http_pro._settings.voice == DEFAULT_PRO_VOICE


async def test_default_voice_times_words_and_turns_follow_at_once(
    default_emulator: Emulator,
) -> None:
    tts = _service(default_emulator)
    async with Harness(tts) as h:
        for text in TURNS:
            await h.send(TTSSpeakFrame(text))
        await h.end()
    assert not h.errors()
    ids = h.context_ids()
    assert len(ids) == 3
    records = [r for r in default_emulator.tts_log if r.transport == "ws"]
    assert [r.voice_id for r in records] == [DEFAULT_VOICE] * 3
    assert [h.audio(i) for i in ids] == [synthesized(default_emulator, t) for t in TURNS]
    for context_id, text, record in zip(ids, TURNS, records, strict=True):
        words = [f for f in h.words() if f.context_id == context_id]
        assert [f.text for f in words] == text.split()  # word by word: the server timed them
        assert [f.text for f in words] == [w.word for w in record.words]
    gaps = _gaps(h.down, ids)
    end = _end_delay(h.down, ids[-1])
    print(f"[default voice] back-to-back gaps ms={_ms(gaps)} end ms={end * 1e3:.1f}")
    assert max(gaps) <= MAX_GAP_S
    assert end <= MAX_GAP_S


async def test_untimed_voice_text_reaches_the_assistant_context(
    default_emulator: Emulator,
) -> None:
    tts = _service(default_emulator, UNTIMED)
    context = LLMContext()
    aggregators = LLMContextAggregatorPair(context)
    spoken = Recorder(FrameDirection.DOWNSTREAM)  # what the assistant aggregator receives
    async with Harness(tts, spoken, aggregators.assistant()) as h:
        await h.send(LLMFullResponseStartFrame())
        for sentence in SENTENCES:
            await h.send(LLMTextFrame(sentence))
        await h.send(LLMFullResponseEndFrame())
        await h.wait_for(lambda: bool(_assistant_messages(context)))
        await h.end()
    assert not h.errors()
    (record,) = [r for r in default_emulator.tts_log if r.transport == "ws"]
    assert record.voice_id == UNTIMED
    audio = spoken.of(TTSAudioRawFrame)
    (context_id,) = {f.context_id for f in audio}
    assert b"".join(f.audio for f in audio) == bytes(record.pcm)
    texts = [f for f in spoken.of(TTSTextFrame) if f.context_id == context_id]
    assert [f.text for f in texts] == "".join(SENTENCES).split()
    assert _joined(texts) == "".join(SENTENCES).strip()
    # No word was timed: each sentence's words carry the time its audio starts.
    starts = [next(f.pts for f in texts if f.text == s.split()[0]) for s in SENTENCES]
    assert sorted(set(starts)) == starts
    expected = [t for s, t in zip(SENTENCES, starts, strict=True) for _ in s.split()]
    assert [f.pts for f in texts] == expected
    assert all(f.append_to_context for f in texts)
    # The text comes with its turn: after its audio, before its TTSStoppedFrame.
    mine = [type(s.frame) for s in spoken.seen if getattr(s.frame, "context_id", None)]
    assert mine.index(TTSAudioRawFrame) < mine.index(TTSTextFrame)
    assert mine[-1] is TTSStoppedFrame
    end = _end_delay(spoken, context_id)
    print(f"[{UNTIMED}] context end after last audio ms={end * 1e3:.1f}")
    assert end <= 1.0
    assert _assistant_messages(context) == ["".join(SENTENCES).strip()]


async def test_untimed_voice_back_to_back_turns(default_emulator: Emulator) -> None:
    tts = _service(default_emulator, UNTIMED)
    async with Harness(tts) as h:
        for text in TURNS:
            await h.send(TTSSpeakFrame(text))
        await h.end()
    assert not h.errors()
    ids = h.context_ids()
    assert len(ids) == 3
    assert len(h.stops()) == 3
    records = [r for r in default_emulator.tts_log if r.transport == "ws"]
    assert [r.voice_id for r in records] == [UNTIMED] * 3
    assert [h.audio(i) for i in ids] == [synthesized(default_emulator, t) for t in TURNS]
    for context_id, text in zip(ids, TURNS, strict=True):
        frames = [f for f in h.words() if f.context_id == context_id]
        assert [f.text for f in frames] == text.split()
        assert len({f.pts for f in frames}) == 1  # untimed: all at the utterance's start
    assert tts.connections_opened == 1
    gaps = _gaps(h.down, ids)
    ends = [_end_delay(h.down, i) for i in ids]
    print(f"[{UNTIMED}] back-to-back gaps ms={_ms(gaps)} ends after last audio ms={_ms(ends)}")
    assert max(ends) <= 1.0
    assert max(gaps) <= 1.0


async def test_untimed_voice_interrupted_turn_keeps_what_was_spoken(
    default_emulator: Emulator,
) -> None:
    default_emulator.config.speed = 2.0  # paced: the turn (about 20 s) is cut early on
    long_turn = [f"Sentence number {n} keeps the bot talking for a while. " for n in range(6)]
    tts = _service(default_emulator, UNTIMED)
    context = LLMContext()
    aggregators = LLMContextAggregatorPair(context)
    spoken = Recorder(FrameDirection.DOWNSTREAM)
    async with Harness(tts, spoken, aggregators.assistant()) as h:
        await h.send(LLMFullResponseStartFrame())
        for sentence in long_turn:
            await h.send(LLMTextFrame(sentence))
        await h.send(LLMFullResponseEndFrame())
        first = long_turn[0].strip()
        await h.wait_for(lambda: _joined(spoken.of(TTSTextFrame)) == first, within=5)
        await h.send(InterruptionFrame())
        await h.wait_for(lambda: bool(_assistant_messages(context)))
        await h.end()
    (message,) = _assistant_messages(context)
    assert isinstance(message, str)
    full = "".join(long_turn).strip()
    # Whole sentences whose audio had started, in order; not the unspoken rest.
    assert message.startswith(first)
    assert full.startswith(message) and message.endswith(".")
    assert len(message) < len(full)
    first_text = spoken.seen.index(spoken.timed(TTSTextFrame)[0])
    assert spoken.audio_bytes_since(0) > spoken.audio_bytes_since(first_text)  # audio first
