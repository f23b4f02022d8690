"""VideoSDK agents: ``synthesize(tokens)`` onto a fake 24 kHz track, ``interrupt()`` to barge in.

The pipeline sets ``tts.loop`` and ``tts.audio_track``; a turn's text is an async stream of
tokens ended by a ``FlushMarker``. Errors are emitted as ``"error"`` and raised as
``SmallestError``. The plugin replays a context that failed before any audio once, on its
own; ``attempts`` is what ``server_attempts`` counts during the turn.
VideoSDK's ``word_spoken`` event carries no times: it fires when playback reaches the word,
so a word's time is when its event fired, measured from the first audio pushed to the track.
Held open for the benchmarks, the same driver speaks through ours or the official plugin
(``impl``) onto the same track, which timestamps every push.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from videosdk.agents import FlushMarker, SpeechEventType, STTResponse, audio_format

from smallest_core import SmallestError
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
from .timing import RATE as TIMED_RATE
from .timing import STALE_WINDOW_S, STT_RATE, Delivery, Heard, now, paced, playback, stt_frames

if TYPE_CHECKING:
    from smallest_emulator import Emulator


class _Track:
    """VideoSDK's agent track, as the pipeline uses it: async add_new_bytes, sync interrupt."""

    sample_rate = TIMED_RATE

    def __init__(self) -> None:
        self.audio = bytearray()
        self.grew = asyncio.Event()
        self.first_at: float | None = None
        self.delivery = Delivery()
        """The current timed turn (benchmarks): every push, timestamped."""

    async def add_new_bytes(self, audio_data: bytes) -> None:
        if self.first_at is None:
            self.first_at = time.monotonic()
        self.audio += audio_data
        self.delivery.add(bytes(audio_data))
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

    def __init__(
        self, base_url: str = "", api_key: str = "", *, impl: str = "ours", words: bool = False
    ) -> None:
        super().__init__(base_url, api_key, impl=impl, words=words)
        if self.official:
            self.words_reason = "the official plugin emits no word timestamps"
            self.stt_reason = "videosdk-plugins-smallestai has no STT"

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
        audio_format.publish(STT_RATE, 1)
        stt = SmallestAISTT(api_key=api_key, base_url=base_url)
        errors: list[str] = []
        stt.on("error", lambda message: errors.append(str(message)))
        failure: Failure | None = None
        silence = bytes(STT_RATE // 50 * 2)
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
        audio_format.publish(STT_RATE, 1)
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
                step = STT_RATE // 50 * 2
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
        audio_format.publish(STT_RATE, 1)
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
            step = STT_RATE // 50 * 2
            for i in range(0, len(pcm), step):
                await stt.process_audio(pcm[i : i + step])
            await stt.flush()
        finally:
            await stt.aclose()
            audio_format.reset()
        if errors:
            result.error = Failure("error event", errors[0], None, 1)
        return result, outputs

    # -- one plugin held open, every push timestamped (benchmarks) ----------------------

    def _make_tts(self) -> Any:
        if self.official:
            from videosdk.plugins import smallestai

            return smallestai.SmallestAITTS(
                api_key=self.api_key,
                base_url=f"{self.base_url}/waves/v1",
                voice_id=self.voice,
                sample_rate=TIMED_RATE,
            )
        return SmallestAITTS(
            api_key=self.api_key,
            base_url=self.base_url,
            voice_id=self.voice,
            sample_rate=TIMED_RATE,
            word_timestamps=self.words,
        )

    async def __aenter__(self) -> VideoSDKDriver:
        self._engine = self._make_tts()
        self._track = _Track()
        self._engine.loop = asyncio.get_running_loop()
        self._engine.audio_track = self._track
        self._engine.on("word_spoken", self._on_word)
        return self

    def _on_word(self, payload: dict[str, Any]) -> None:
        self._track.delivery.word_times.append((str(payload.get("word", "")), now()))

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._engine.aclose()

    @staticmethod
    async def _paced_text(tokens: list[str], gap_s: float, d: Delivery) -> AsyncIterator[Any]:
        d.started = now()
        for i, tok in enumerate(tokens):
            if i and gap_s:
                await asyncio.sleep(gap_s)
            yield tok
        yield FlushMarker()  # the pipeline ends every turn with one

    async def turn(self, tokens: list[str], gap_s: float = 0.0) -> Delivery:
        d = self._track.delivery = Delivery()
        self._engine.reset_first_audio_tracking()
        await self._engine.synthesize(self._paced_text(tokens, gap_s, d))
        if self.words and d.pushes:  # words are spoken at playback time: wait for them
            _, end, _ = playback(d.pushes)
            await asyncio.sleep(max(0.0, end - now()) + 0.05)
        return d

    async def barge(self, tokens: list[str], cut_after_bytes: int) -> tuple[Delivery, float, float]:
        track = self._track
        d = track.delivery = Delivery()
        self._engine.reset_first_audio_tracking()
        task = asyncio.ensure_future(self._engine.synthesize(self._paced_text(tokens, 0.0, d)))
        try:
            async with asyncio.timeout(30):
                while len(d.audio) < cut_after_bytes:
                    track.grew.clear()
                    await track.grew.wait()
            cut = now()
            await self._engine.interrupt()
            returned = now()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 15)
            await asyncio.sleep(STALE_WINDOW_S)  # anything stale arrives now
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        return d, cut, returned

    async def utterance(self, pcm: bytes, *, finalize: bool, realtime: bool = False) -> Heard:
        heard = Heard()
        engine = SmallestAISTT(
            api_key=self.api_key,
            base_url=self.base_url,
            sample_rate=STT_RATE,
            input_sample_rate=STT_RATE,
            input_channels=1,
        )
        got = asyncio.Event()

        async def on_transcript(resp: Any) -> None:
            if resp.event_type == SpeechEventType.FINAL and resp.data and resp.data.text:
                if not heard.final_at:
                    heard.final_at, heard.final_text = now(), resp.data.text
                got.set()

        engine.on_stt_transcript(on_transcript)
        try:
            async for f in paced(stt_frames(pcm), realtime):
                await engine.process_audio(f)
            heard.finalize_at = now()
            if finalize:
                await engine.flush()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(got.wait(), 8)
        finally:
            await engine.aclose()  # the end of the stream: close_stream, last final
        return heard
