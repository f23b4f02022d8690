"""The newer models' turns, after each framework's main one.

* Lightning v4: a three-sentence reply the caller barges in on, then a short follow-up on the
  same session;
* Lightning v3.2: a two-sentence reply whose affect changes between the sentences;
* Pulse 2: the main turn's audio played into it again (at the same pace), with the emotion
  and gender of the final.

Each framework module (``<name>_extras.py``) drives its adapter's classes; this module holds
what they produce, checks it (against the embedded emulator's records when offline) and prints it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from playback import FRAME_MS, TRAILING_SILENCE_S

from smallest_core import Affect

if TYPE_CHECKING:
    from smallest_emulator import Emulator

V4_REPLY = (
    "Let me look at the calendar for you. I can see three free slots on Monday morning. "
    "The first one starts at nine and the last one at half past eleven."
)
V4_FOLLOW_UP = "Sorry, go ahead."
BARGE_IN_AFTER_S = 1.0
"""Seconds of the v4 reply's audio received when the caller barges in."""
V32_SENTENCES: tuple[tuple[str, Affect], ...] = (
    ("I am so sorry that your parcel is late.", Affect(emotion="sad", pitch="low")),
    ("But good news, it arrives tomorrow morning!", Affect(emotion="happy", pitch="high")),
)
V32_FALLBACK_VOICE = "demo-v32"
"""Used when the server's v3.2 catalogue is empty (the emulator's is: the spec names none)."""
SAMPLE_RATE = 24000
WAIT_S = 30.0
"""Bound on each wait inside an extra turn."""


@dataclass
class Server:
    """Where the extra turns go; ``emulator`` is set offline, to check against its records."""

    base_url: str
    api_key: str | None
    emulator: Emulator | None = None
    v32_voice: str = V32_FALLBACK_VOICE
    pace: float = 1.0
    """How fast audio is played into the STT: 1 = real time, 0 = as fast as possible."""


@dataclass
class V4Result:
    """A v4 reply cut by a barge-in, and the follow-up spoken on the same session."""

    reply_pcm: bytearray = field(default_factory=bytearray)
    follow_up_pcm: bytearray = field(default_factory=bytearray)
    first_token: float | None = None
    first_audio: float | None = None
    cut_at_s: float | None = None
    """Seconds of the reply's audio received when the caller barged in (None: never cut)."""
    stale_after_cut: int = 0
    """Audio chunks of the cut reply that arrived after the barge-in (must be 0)."""
    sessions_opened: int | None = None
    server_sent_s: float | None = None
    sentences_retired: int | None = None
    follow_up_is_servers: bool | None = None

    def token(self) -> None:
        if self.first_token is None:
            self.first_token = time.monotonic()

    def audio(self, data: bytes) -> None:
        if data and self.first_audio is None:
            self.first_audio = time.monotonic()
        self.reply_pcm += data

    @property
    def reply_s(self) -> float:
        return len(self.reply_pcm) / 2 / SAMPLE_RATE

    @property
    def first_audio_ms(self) -> float | None:
        if self.first_audio is None or self.first_token is None:
            return None
        return (self.first_audio - self.first_token) * 1000


@dataclass
class Sentence:
    """One v3.2 sentence: the affect sent, the affect the server recorded, its audio."""

    text: str
    sent: dict[str, str]
    pcm: bytes = b""
    recorded: dict[str, str] | None = None


@dataclass
class Pulse2Result:
    """The finals of the Pulse 2 transcription and their speaker metadata."""

    finals: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def final(self, text: str, metadata: dict[str, Any] | None) -> None:
        if text.strip():
            self.finals.append((text.strip(), dict(metadata or {})))


@dataclass
class Extras:
    """What the extra turns of one framework produced, and why any of them failed."""

    framework: str
    v4: V4Result | None = None
    v32: list[Sentence] | None = None
    pulse2: Pulse2Result | None = None
    failed: dict[str, str] = field(default_factory=dict)


def affect_fields(affect: Affect) -> dict[str, str]:
    """The affect's fields that are set, as the request carries them."""
    names = ("emotion", "pitch", "volume", "prosody", "accent", "instruction")
    return {n: str(getattr(affect, n)) for n in names if getattr(affect, n) is not None}


class Watch:
    """Wakes a waiter whenever something it may be waiting for was recorded (``poke``)."""

    def __init__(self) -> None:
        self._changed = asyncio.Event()

    def poke(self, *_: object) -> None:
        self._changed.set()

    async def until(self, check: Callable[[], bool], what: str, within: float = WAIT_S) -> None:
        """Return once ``check()`` holds; ``TimeoutError`` naming ``what`` after ``within`` s."""
        try:
            async with asyncio.timeout(within):
                while not check():
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise TimeoutError(f"{what} did not happen within {within:.0f} s") from None


async def feed(pcm: bytes, send: Callable[[bytes], Awaitable[None]], pace: float) -> None:
    """``pcm`` then a second of silence to ``send`` in 20 ms frames, at ``pace`` x real time
    (0: as fast as possible), as a caller's audio arrives."""
    step = SAMPLE_RATE * FRAME_MS // 1000 * 2
    audio = pcm + b"\0" * int(TRAILING_SILENCE_S * SAMPLE_RATE) * 2
    start = time.monotonic()
    for offset in range(0, len(audio), step):
        if pace > 0:
            due = start + offset / 2 / SAMPLE_RATE / pace
            await asyncio.sleep(max(0.0, due - time.monotonic()))
        await send(audio[offset : offset + step])


@dataclass
class Mark:
    """Where the emulator's records stood before an extra turn (offline only)."""

    tts_records: int
    v4_sessions: int

    @classmethod
    def of(cls, emu: Emulator | None) -> Mark | None:
        if emu is None:
            return None
        return cls(len(emu.tts_log), emu.ws_connections.per_route.get("lightning-v4", 0))


def check_v4(result: V4Result, emu: Emulator | None, mark: Mark | None) -> list[str]:
    """Why the v4 turn failed (empty when it worked); fills in the server's side offline."""
    problems = []
    if not result.reply_pcm:
        problems.append("no audio for the reply")
    if result.cut_at_s is None:
        problems.append("the reply ended before the barge-in")
    if result.stale_after_cut:
        problems.append(f"{result.stale_after_cut} chunks of the cut reply came after it")
    if not result.follow_up_pcm:
        problems.append("no audio for the follow-up")
    if emu is not None and mark is not None:
        turns = [r for r in emu.tts_log[mark.tts_records :] if r.transport == "v4"]
        reply = [r for r in turns if r.text.strip() != V4_FOLLOW_UP]
        follow = [r for r in turns if r.text.strip() == V4_FOLLOW_UP]
        result.server_sent_s = sum(len(r.pcm) for r in reply) / 2 / SAMPLE_RATE
        result.sentences_retired = sum(r.cancelled for r in reply)
        if len(follow) == 1:
            result.follow_up_is_servers = bytes(result.follow_up_pcm) == bytes(follow[0].pcm)
        if result.follow_up_pcm and not result.follow_up_is_servers:
            problems.append("the follow-up's audio is not exactly the server's for it")
        opened = emu.ws_connections.per_route.get("lightning-v4", 0) - mark.v4_sessions
        result.sessions_opened = opened  # the server's count, whatever the adapter says
    if result.sessions_opened is not None and result.sessions_opened != 1:
        problems.append(f"{result.sessions_opened} sessions opened (one expected)")
    return problems


def check_v32(sentences: list[Sentence], emu: Emulator | None, mark: Mark | None) -> list[str]:
    """Why the v3.2 turn failed; fills in the affect the server recorded offline."""
    problems = [f"no audio for {s.text!r}" for s in sentences if not s.pcm]
    if len(sentences) != len(V32_SENTENCES):
        problems.append(f"{len(sentences)} of {len(V32_SENTENCES)} sentences spoken")
    if emu is not None and mark is not None:
        records = [r for r in emu.tts_log[mark.tts_records :] if r.transport == "http"]
        for sentence in sentences:
            match = [r for r in records if r.text.strip() == sentence.text]
            sentence.recorded = dict(match[-1].affect) if match else None
            if sentence.recorded != sentence.sent:
                problems.append(f"the server recorded {sentence.recorded} for {sentence.text!r}")
    if len({tuple(sorted(s.sent.items())) for s in sentences}) < 2:
        problems.append("the affect did not change between the sentences")
    return problems


def check_pulse2(result: Pulse2Result) -> list[str]:
    """Why the Pulse 2 transcription failed."""
    if not result.finals:
        return ["no final transcript"]
    meta = result.finals[-1][1]
    return [f"no {name} on the final" for name in ("emotion", "gender") if not meta.get(name)]


def describe(extras: Extras) -> list[str]:
    """The lines printed for one framework's extra turns."""
    lines = [extras.framework]
    v4 = extras.v4
    if v4 is not None and "Lightning v4" not in extras.failed:
        first = f"{v4.first_audio_ms:.0f} ms" if v4.first_audio_ms is not None else "-"
        server = ""
        if v4.server_sent_s is not None:
            server = (
                f"; the server stopped after {v4.server_sent_s:.2f} s and retired "
                f"{v4.sentences_retired} of its sentence turns"
            )
        own = {True: "only its own audio (the server's, byte for byte)", None: "its own turn"}
        lines += [
            f"  Lightning v4: first audio {first}; barge-in at {v4.cut_at_s:.2f} s of the reply"
            f"{server}; no audio of the cut reply after it",
            f"    follow-up {V4_FOLLOW_UP!r}: {len(v4.follow_up_pcm) / 2 / SAMPLE_RATE:.2f} s, "
            f"{own.get(v4.follow_up_is_servers, 'NOT its own')}; sessions opened: "
            f"{v4.sessions_opened if v4.sessions_opened is not None else '?'}",
        ]
    if extras.v32 is not None and "Lightning v3.2" not in extras.failed:
        lines.append("  Lightning v3.2, affect per sentence:")
        for s in extras.v32:
            said = ", ".join(f"{k}={v}" for k, v in s.sent.items())
            how = "as the server recorded it" if s.recorded == s.sent else "as sent"
            lines.append(f"    {s.text!r}: {said} ({how}), {len(s.pcm) / 2 / SAMPLE_RATE:.2f} s")
    p2 = extras.pulse2
    if p2 is not None and p2.finals and "Pulse 2" not in extras.failed:
        text, meta = p2.finals[-1]
        scores = meta.get("emotions") or {}
        score = f" ({scores[meta['emotion']]:.2f})" if meta.get("emotion") in scores else ""
        lines.append(
            f"  Pulse 2: {len(p2.finals)} final(s), last {text!r}: "
            f"emotion {meta.get('emotion')}{score}, gender {meta.get('gender')}"
        )
    for what, reason in extras.failed.items():
        lines.append(f"  {what} FAILED: {reason}")
    return lines


OFFLINE_NOTE = (
    "Offline, the emulator speaks Lightning v4 and v3.2 with the same espeak-ng voice as the"
    " main turn: the v3.2 affect is sent and recorded by the server (volume scales the audio),"
    " but espeak-ng does not act the emotion or pitch; Pulse 2's emotion and gender are derived"
    " by the emulator from the transcript text, not heard in the voice. Against the real API"
    " both come from the models."
)
