"""VideoSDK agents: ``synthesize(tokens)`` onto a fake 24 kHz track, ``interrupt()`` to barge in.

The pipeline sets ``tts.loop`` and ``tts.audio_track``; a turn's text is an async stream of
tokens ended by a ``FlushMarker``. Errors are emitted as ``"error"`` and raised as
``SmallestError``. The plugin replays a context that failed before any audio once, on its
own; ``attempts`` is what ``server_attempts`` counts during the turn.
VideoSDK's ``word_spoken`` event carries no times: it fires when playback reaches the word,
so a word's time is when its event fired, measured from the first audio pushed to the track.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from videosdk.agents import FlushMarker, SpeechEventType, STTResponse, audio_format

from smallest_core import SmallestError
from smallest_emulator import Emulator
from smallest_videosdk import SmallestAISTT, SmallestAITTS, SmallestAITTSV4

from .base import (
    Caps,
    Driver,
    Failure,
    STTResult,
    Turn,
    TurnResult,
    sentences,
    server_attempts,
)

RATE = 16000


class _Track:
    """VideoSDK's agent track, as the pipeline uses it: async add_new_bytes, sync interrupt."""

    sample_rate = 24000

    def __init__(self) -> None:
        self.audio = bytearray()
        self.grew = asyncio.Event()
        self.first_at: float | None = None

    async def add_new_bytes(self, audio_data: bytes) -> None:
        if self.first_at is None:
            self.first_at = time.monotonic()
        self.audio += audio_data
        self.grew.set()

    def interrupt(self) -> None:
        """The pipeline clears its playback buffer here; this track plays nothing."""


async def _tokens(t: Turn, sent: asyncio.Event) -> AsyncIterator[str | FlushMarker]:
    """What a VideoSDK pipeline passes: tokens, a ``FlushMarker`` after the text (after each
    sentence with ``sentence_flush``), no delay in between."""
    for sentence in sentences(t.tokens) if t.sentence_flush else [t.tokens]:
        for token in sentence:
            yield token
        if t.sentence_flush:
            yield FlushMarker()
    if not t.sentence_flush:
        yield FlushMarker()
    sent.set()


class VideoSDKDriver(Driver):
    name = "videosdk"
    caps = Caps(
        exact_text=True,
        word_times=False,
        retries_in_framework=False,
        stt_reconnect="",
    )

    def build_tts(
        self, *, api_key: str | None, base_url: str | None, **options: Any
    ) -> SmallestAITTS:
        return SmallestAITTS(api_key=api_key, base_url=base_url, **options)

    def build_stt(
        self, *, api_key: str | None, base_url: str | None, **options: Any
    ) -> SmallestAISTT:
        return SmallestAISTT(api_key=api_key, base_url=base_url, **options)

    async def run_turns(
        self,
        emu: Emulator,
        turns: list[Turn],
        *,
        api_key: str,
        base_url: str | None = None,
        word_timestamps: bool = False,
        timeout_s: float = 5.0,
        max_retry: int = 1,
        server_idle_timeout: bool = False,
        between: Callable[[int, TurnResult], Awaitable[None]] | None = None,
    ) -> list[TurnResult]:
        results: list[TurnResult] = []
        options: dict[str, Any] = {"voice_id": self.voice}
        track = _Track()
        tts = SmallestAITTS(
            api_key=api_key,
            base_url=base_url or emu.base_url,
            voice_id=self.voice,
            word_timestamps=word_timestamps,
            timeout=timeout_s,
            idle_timeout_s=None if server_idle_timeout else 300,
        )
        tts.loop = asyncio.get_running_loop()
        tts.audio_track = track
        words: list[tuple[str, float]] = []
        spoken = asyncio.Event()

        def on_word(payload: dict[str, Any]) -> None:
            words.append((payload["word"], time.monotonic()))
            spoken.set()

        tts.on("word_spoken", on_word)
        reported: list[str] = []
        tts.on("error", lambda message: reported.append(str(message)))
        try:
            for i, t in enumerate(turns):
                options.update(t.options)  # VideoSDK changes the voice per call only
                words.clear()
                track.first_at = None
                reported.clear()
                results.append(await self._turn(emu, tts, track, t, options, timeout_s))
                results[-1].reported = list(reported)
                if word_timestamps and not results[-1].error and not results[-1].interrupted:
                    # word_spoken fires when playback reaches the word: wait for the last one
                    # (bounded: a word the plugin ignored never fires; scenarios see it missing)
                    played = len(results[-1].audio) / (2 * track.sample_rate)
                    start = track.first_at or time.monotonic()
                    wait = min(timeout_s * 3, start + played + 1.0 - time.monotonic())
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(max(wait, 0.0)):
                            while len(words) < len(t.text.split()):
                                spoken.clear()
                                await spoken.wait()
                start = track.first_at or 0.0
                results[-1].words = [(w, at - start, None) for w, at in words]
                if between is not None:
                    await between(i, results[-1])
        finally:
            await tts.aclose()
        return results

    async def _turn(
        self,
        emu: Emulator,
        tts: SmallestAITTS,
        track: _Track,
        t: Turn,
        options: dict[str, Any],
        timeout_s: float,
    ) -> TurnResult:
        started = time.monotonic()
        upgrades = server_attempts(emu, 2)
        track.audio.clear()  # earlier turns were read already
        result = TurnResult(b"")
        sent = asyncio.Event()
        task = asyncio.create_task(tts.synthesize(_tokens(t, sent), voice_id=options["voice_id"]))
        try:
            if t.barge_in_after_bytes is not None:
                n = t.barge_in_after_bytes
                async with asyncio.timeout(timeout_s * 3):
                    while not task.done() and len(track.audio) < n:
                        track.grew.clear()
                        grew = asyncio.ensure_future(track.grew.wait())
                        await asyncio.wait({grew, task}, return_when=asyncio.FIRST_COMPLETED)
                        grew.cancel()
                if not task.done():
                    result.interrupted = True
                    await tts.interrupt()
            if t.barge_in_after_s is not None:
                handed = asyncio.ensure_future(sent.wait())
                await asyncio.wait({handed, task}, timeout=timeout_s, return_when="FIRST_COMPLETED")
                handed.cancel()
                await asyncio.wait({task}, timeout=t.barge_in_after_s)
                if not task.done():
                    result.interrupted = True
                    if t.cancel_task:
                        task.cancel()
                    else:
                        await tts.interrupt()
            async with asyncio.timeout(timeout_s * 3):
                (outcome,) = await asyncio.gather(task, return_exceptions=True)
            if isinstance(outcome, BaseException) and not isinstance(
                outcome, asyncio.CancelledError
            ):
                raise outcome
        except SmallestError as exc:
            result.error = Failure(
                "SmallestError",
                exc.message,
                exc.retryable,
                server_attempts(emu, 2) - upgrades,
                exc.status_code,
                str(exc.kind),
            )
        except TimeoutError:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            result.error = Failure("NoOutcome", "synthesize() did not return", None, 0)
        result.audio = bytes(track.audio)
        result.seconds = time.monotonic() - started
        return result

    async def http_turn(
        self, text: str, *, api_key: str, base_url: str, timeout_s: float = 5.0
    ) -> TurnResult:
        started = time.monotonic()
        result = TurnResult(b"")
        track = _Track()
        tts = SmallestAITTS(
            api_key=api_key,
            base_url=base_url,
            voice_id=self.voice,
            timeout=timeout_s,
            enable_streaming=False,
        )
        tts.loop = asyncio.get_running_loop()
        tts.audio_track = track
        errors: list[str] = []
        tts.on("error", lambda message: errors.append(str(message)))
        try:
            async with asyncio.timeout(timeout_s * 3):
                await tts.synthesize(text)
        except SmallestError as exc:
            result.error = Failure(
                "SmallestError", exc.message, exc.retryable, 1, exc.status_code, str(exc.kind)
            )
        finally:
            await tts.aclose()
        if result.error is None and errors:
            result.error = Failure("error event", errors[0], None, 1)
        result.reported = errors
        result.audio = bytes(track.audio)
        result.seconds = time.monotonic() - started
        return result

    async def stt_hold(
        self, *, api_key: str, base_url: str, seconds: float
    ) -> tuple[Failure | None, list[str]]:
        audio_format.reset()
        audio_format.publish(RATE, 1)
        stt = SmallestAISTT(api_key=api_key, base_url=base_url)
        errors: list[str] = []
        stt.on("error", lambda message: errors.append(str(message)))
        failure: Failure | None = None
        silence = bytes(RATE // 50 * 2)
        try:
            async with asyncio.timeout(seconds):
                while True:
                    await stt.process_audio(silence)
                    await asyncio.sleep(0.02)
        except TimeoutError:
            pass
        except SmallestError as exc:
            failure = Failure("SmallestError", exc.message, exc.retryable, 1, exc.status_code)
            errors.append(str(exc))
        finally:
            await stt.aclose()
            audio_format.reset()
        if failure is None and errors:
            failure = Failure("error event", errors[0], None, 1)
        return failure, errors

    async def stt_stream(
        self,
        emu: Emulator,
        segments: list[bytes],
        *,
        api_key: str,
        base_url: str | None = None,
        reconnect_between: bool = False,
    ) -> STTResult:
        audio_format.reset()
        audio_format.publish(RATE, 1)
        stt = SmallestAISTT(api_key=api_key, base_url=base_url or emu.base_url)
        result = STTResult([], [])
        got = asyncio.Event()
        errors: list[str] = []
        stt.on("error", lambda message: errors.append(str(message)))

        async def on_transcript(response: STTResponse) -> None:
            if response.event_type is SpeechEventType.FINAL and response.data.text:
                result.finals.append(response.data.text)
                meta = response.metadata or {}
                for w in meta.get("words", []):
                    result.words.append((w["word"], w["start"], w["end"]))
                got.set()

        stt.on_stt_transcript(on_transcript)
        try:
            for n, pcm in enumerate(segments):
                step = RATE // 50 * 2
                for i in range(0, len(pcm), step):
                    await stt.process_audio(pcm[i : i + step])
                await stt.flush()
                if n < len(segments) - 1:
                    async with asyncio.timeout(10):
                        while len(result.finals) <= n:
                            got.clear()
                            await got.wait()
        finally:
            await stt.aclose()
            audio_format.reset()
        if errors:
            result.error = Failure("error event", errors[0], None, 1)
        return result

    async def v4_turns(
        self,
        emu: Emulator,
        texts: list[str],
        *,
        api_key: str,
        barge_in_first_after_bytes: int | None = None,
    ) -> list[TurnResult]:
        track = _Track()
        tts = SmallestAITTSV4(api_key=api_key, base_url=emu.base_url, sample_rate=24000)
        tts.loop = asyncio.get_running_loop()
        tts.audio_track = track
        results: list[TurnResult] = []
        try:
            for i, text in enumerate(texts):
                track.audio.clear()
                result = TurnResult(b"")
                task = asyncio.create_task(tts.synthesize(text))
                cut = barge_in_first_after_bytes if i == 0 else None
                if cut is not None:
                    async with asyncio.timeout(15):
                        while not task.done() and len(track.audio) < cut:
                            track.grew.clear()
                            grew = asyncio.ensure_future(track.grew.wait())
                            await asyncio.wait({grew, task}, return_when="FIRST_COMPLETED")
                            grew.cancel()
                    if not task.done():
                        result.interrupted = True
                        await tts.interrupt()
                async with asyncio.timeout(15):
                    (outcome,) = await asyncio.gather(task, return_exceptions=True)
                if isinstance(outcome, SmallestError):
                    result.error = Failure(
                        "SmallestError", outcome.message, outcome.retryable, 1, None, None
                    )
                elif isinstance(outcome, BaseException):
                    raise outcome
                result.audio = bytes(track.audio)
                results.append(result)
        finally:
            await tts.aclose()
        return results

    async def pulse2_stream(
        self, emu: Emulator, pcm: bytes, *, api_key: str
    ) -> tuple[STTResult, list[dict[str, Any]]]:
        audio_format.reset()
        audio_format.publish(RATE, 1)
        stt = SmallestAISTT(api_key=api_key, base_url=emu.base_url, model="pulse-2")
        result = STTResult([], [])
        outputs: list[dict[str, Any]] = []
        errors: list[str] = []
        stt.on("error", lambda message: errors.append(str(message)))

        async def on_transcript(response: STTResponse) -> None:
            if response.event_type is SpeechEventType.FINAL and response.data.text:
                result.finals.append(response.data.text)
                meta = response.metadata or {}
                outputs.append({k: meta[k] for k in ("emotion", "gender") if k in meta})

        stt.on_stt_transcript(on_transcript)
        try:
            step = RATE // 50 * 2
            for i in range(0, len(pcm), step):
                await stt.process_audio(pcm[i : i + step])
            await stt.flush()
        finally:
            await stt.aclose()
            audio_format.reset()
        if errors:
            result.error = Failure("error event", errors[0], None, 1)
        return result, outputs
