"""Word timestamps: original spacing, on the segment's timeline, exact to the audio."""

from __future__ import annotations

import pytest
from livekit.agents.types import USERDATA_TIMED_TRANSCRIPT, TimedString
from livekit_kit import ALL_PROFILES, expected_pcm, frames_pcm, key

from smallest_emulator import Emulator
from smallest_livekit import TTS

SENTENCES = [
    "The first sentence is short.",
    " Then comes a second one,  with two spaces.",
    " A third follows it.",
    " The fourth sentence\tholds a tab.",
    " Finally the fifth sentence arrives here.",
]


@pytest.mark.parametrize("profile", ALL_PROFILES)
async def test_words_keep_spacing_and_match_the_audio(emu: Emulator, profile: str) -> None:
    engine = TTS(api_key=key(profile), base_url=emu.base_url, voice_id="liam", word_timestamps=True)
    assert engine.capabilities.aligned_transcript
    try:
        async with engine.stream() as stream:
            for sentence in SENTENCES:
                for token in sentence.split(" "):
                    stream.push_text(token)
                    stream.push_text(" ")
            stream.end_input()
            events = [ev async for ev in stream]
    finally:
        await engine.aclose()
    sent = emu.tts_log[-1].text
    words: list[TimedString] = [
        w for ev in events for w in ev.frame.userdata.get(USERDATA_TIMED_TRANSCRIPT, [])
    ]
    assert "".join(words) == sent.rstrip()  # joined words give back the text sent
    assert frames_pcm(events) == expected_pcm(emu)

    rec = emu.tts_log[-1]
    sr = rec.sample_rate
    assert len(words) == len(rec.words)
    starts = [float(w.start_time) for w in words]  # type: ignore[arg-type]
    errors = [abs(t - r.context_start_sample / sr) for t, r in zip(starts, rec.words, strict=True)]
    fifth = sum(len(s.split()) for s in SENTENCES[:4])  # index of the fifth sentence's 1st word
    print(f"word start error at the fifth sentence: {errors[fifth] * 1000:.3f} ms")
    assert errors[fifth] <= 0.010
    assert max(errors) <= 0.010
