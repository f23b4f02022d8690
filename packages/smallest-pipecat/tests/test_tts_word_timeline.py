"""Word frames on the context's continuous timeline, with the text's own spacing."""

from __future__ import annotations

from pipecat.frames.frames import (
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    TTSTextFrame,
)
from pipecat.utils.string import TextPartForConcatenation, concatenate_aggregated_text
from pipecat_pipeline import Harness
from tts_common import make_tts

from smallest_emulator import Emulator

SENTENCES = [
    "The first sentence is short. ",
    "Then, a second one follows! ",
    "Does the third ask something? ",
    "A fourth keeps going; on and on. ",
    "Finally the fifth request ends it.",
]


async def test_word_times_match_the_audio(emulator: Emulator, profile: str) -> None:
    tts = make_tts(emulator)
    async with Harness(tts) as h:
        await h.send(LLMFullResponseStartFrame())
        for s in SENTENCES:
            await h.send(LLMTextFrame(s))
        await h.send(LLMFullResponseEndFrame())
        await h.end()
    words = h.words()
    (record,) = [r for r in emulator.tts_log if r.transport == "ws"]
    expected = [(w.word, w.context_start_sample / record.sample_rate) for w in record.words]
    assert [w.text for w in words] == [w for w, _ in expected]
    pts = [w.pts or 0 for w in words]
    base_pts = pts[0]
    base_t = expected[0][1]
    errors = [
        abs((p - base_pts) / 1e9 - (t - base_t)) for p, (_, t) in zip(pts, expected, strict=True)
    ]
    fifth = [e for (w, _), e in zip(expected, errors, strict=True) if w in SENTENCES[4].split()]
    print(f"[{profile}] max word error ms={max(errors) * 1000:.2f} fifth={max(fifth) * 1000:.2f}")
    assert max(errors) <= 0.010
    text = concatenate_aggregated_text(
        [
            TextPartForConcatenation(
                w.text, includes_inter_part_spaces=w.includes_inter_frame_spaces
            )
            for w in words
        ]
    )
    assert text == "".join(SENTENCES).strip()


async def test_no_word_frames_when_disabled(default_emulator: Emulator) -> None:
    tts = make_tts(default_emulator, word_timestamps=False)
    async with Harness(tts) as h:
        await h.send(
            LLMFullResponseStartFrame(), LLMTextFrame(SENTENCES[0]), LLMFullResponseEndFrame()
        )
        await h.end()
    texts = [f.text for f in h.down.of(TTSTextFrame)]
    assert texts == [SENTENCES[0].strip()]
