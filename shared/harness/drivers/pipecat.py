"""Pipecat: a real running pipeline ``[recorder, service, recorder]``.

A turn is what an LLM produces (``LLMFullResponseStart``, text tokens, ``...End``);
barge-in is an ``InterruptionFrame`` (how a pipeline cancels a turn: the service's input
task is cancelled as the frame passes, so it also stands for task cancellation). Errors are
``ErrorFrame``s travelling upstream.
Pipecat services do not retry a request themselves (the pipeline carries on and the next
turn reconnects), so ``attempts`` is what ``server_attempts`` counts during the turn.
Held open for the benchmarks, the same driver runs ours or Pipecat's own Smallest service
(``impl``) in one pipeline, frames timestamped by the harness's recorders.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from pipecat.frames.frames import (
    ErrorFrame,
    InputAudioRawFrame,
    InterruptionFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    STTUpdateSettingsFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
    TTSSpeakFrame,
    TTSStoppedFrame,
    TTSTextFrame,
    TTSUpdateSettingsFrame,
    UserStoppedSpeakingFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.transcriptions.language import Language
from pipecat_pipeline import Harness

from smallest_core import SmallestError
from smallest_pipecat import (
    SmallestHttpTTSService,
    SmallestLightningV4TTSService,
    SmallestSTTService,
    SmallestTTSService,
)

from .base import Caps, Driver, Failure, STTResult, Turn, TurnResult, server_attempts
from .timing import RATE as TIMED_RATE
from .timing import STALE_WINDOW_S, STT_RATE, Delivery, Heard, now, paced, stt_frames

if TYPE_CHECKING:
    from smallest_emulator import Emulator

_SETTING_NAMES = {"voice_id": "voice", "speed": "speed", "language": "language"}


def _failure(frame: ErrorFrame, attempts: int) -> Failure:
    exc = frame.exception
    if isinstance(exc, SmallestError):
        return Failure(
            "ErrorFrame", frame.error, exc.retryable, attempts, exc.status_code, str(exc.kind)
        )
    return Failure("ErrorFrame", frame.error, None, attempts)


class PipecatDriver(Driver):
    name = "pipecat"
    caps = Caps(
        exact_text=False,
        word_times=True,
        retries_in_framework=False,
        stt_reconnect="STTUpdateSettingsFrame after the user stopped speaking",
    )

    def build_tts(
        self, *, api_key: str | None, base_url: str | None, **options: Any
    ) -> SmallestTTSService:
        settings = {
            _SETTING_NAMES.get(k, k): options.pop(k)
            for k in list(options)
            if k in ("voice_id", "speed", "language", "model")
        }
        return SmallestTTSService(
            api_key=api_key,
            base_url=base_url,
            settings=SmallestTTSService.Settings(**settings),
            **options,
        )

    def build_stt(
        self, *, api_key: str | None, base_url: str | None, **options: Any
    ) -> SmallestSTTService:
        settings = {k: options.pop(k) for k in list(options) if k in ("language", "model")}
        return SmallestSTTService(
            api_key=api_key,
            base_url=base_url,
            settings=SmallestSTTService.Settings(**settings),
            **options,
        )

    async def aclose(self, plugin: Any) -> None:
        """Pipecat services are closed by their pipeline; one that never ran holds nothing."""

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
        service = SmallestTTSService(
            api_key=api_key,
            base_url=base_url or emu.base_url,
            word_timestamps=word_timestamps,
            idle_timeout_s=None if server_idle_timeout else 300,
            response_timeout_s=timeout_s,
            settings=SmallestTTSService.Settings(voice=self.voice, language=Language.EN),
        )
        results: list[TurnResult] = []
        async with Harness(service, in_rate=STT_RATE) as p:
            read: set[str] = set()  # context ids of the turns already read
            for i, t in enumerate(turns):
                results.append(await self._turn(emu, p, t, timeout_s, read))
                if between is not None:
                    await between(i, results[-1])
            await p.end()
        return results

    async def _turn(
        self, emu: Emulator, p: Harness, t: Turn, timeout_s: float, read: set[str]
    ) -> TurnResult:
        started = time.monotonic()
        if t.options:
            delta = {_SETTING_NAMES[k]: v for k, v in t.options.items()}
            await p.send(TTSUpdateSettingsFrame(delta=SmallestTTSService.Settings(**delta)))
        # Frames of earlier turns were read already: drop them (long runs stay linear).
        read |= {f.context_id for f in p.down.of(TTSAudioRawFrame)}
        p.down.clear()
        p.up.clear()
        upgrades = server_attempts(emu)
        await p.send(LLMFullResponseStartFrame(), *[LLMTextFrame(x) for x in t.tokens])
        await p.send(LLMFullResponseEndFrame())

        def mine() -> list[Any]:
            return [f for f in p.down.frames_since(0) if getattr(f, "context_id", None) not in read]

        def audio() -> bytes:
            return b"".join(f.audio for f in mine() if isinstance(f, TTSAudioRawFrame))

        silent = not t.text.strip()  # Pipecat speaks nothing: the turn ends with the LLM's

        def ended() -> bool:
            if silent and any(
                isinstance(f, LLMFullResponseEndFrame) for f in p.down.frames_since(0)
            ):
                return True
            return bool(p.stops() or p.errors())

        result = TurnResult(b"")
        limit = timeout_s * 3
        if t.barge_in_after_bytes is not None or t.barge_in_after_s is not None:
            if t.barge_in_after_s is not None:
                await p.wait_until(ended, t.barge_in_after_s)
            else:
                n = t.barge_in_after_bytes or 0
                await p.wait_until(lambda: ended() or len(audio()) >= n, limit)
            if not ended():
                result.interrupted = True
                seen = len(p.down.of(InterruptionFrame))
                await p.send(InterruptionFrame())
                await p.wait_until(lambda: len(p.down.of(InterruptionFrame)) > seen, limit)
        else:
            await p.wait_until(ended, limit)
            if p.errors():  # its stop frame follows the error
                await p.wait_until(lambda: bool(p.stops()), 1.0)
        result.audio = audio()
        words = [f for f in mine() if isinstance(f, TTSTextFrame) and f.pts is not None]
        if words:  # the first word of a synthesis starts its audio (sample 0)
            base = words[0].pts
            result.words = [(w.text, (w.pts - base) / 1e9, None) for w in words]
        result.reported = [f"{f.error} {f.exception!r}" for f in p.errors()]
        if p.errors():
            result.error = _failure(p.errors()[0], server_attempts(emu) - upgrades)
        elif not result.interrupted and not ended():
            result.error = Failure("NoOutcome", f"no stop or error in {limit:g}s", None, 0)
        result.seconds = time.monotonic() - started
        return result

    async def http_turn(
        self, text: str, *, api_key: str, base_url: str, timeout_s: float = 5.0
    ) -> TurnResult:
        started = time.monotonic()
        service = SmallestHttpTTSService(
            api_key=api_key,
            base_url=base_url,
            timeout_s=timeout_s,
            settings=SmallestHttpTTSService.Settings(voice=self.voice, language=Language.EN),
        )
        result = TurnResult(b"")
        async with Harness(service, in_rate=STT_RATE) as p:
            await p.send(LLMFullResponseStartFrame(), LLMTextFrame(text))
            await p.send(LLMFullResponseEndFrame())
            await p.wait_until(lambda: bool(p.stops() or p.errors()), timeout_s * 3)
            if p.errors():
                await p.wait_until(lambda: bool(p.stops()), 1.0)
            await p.end()
        result.audio = b"".join(f.audio for f in p.down.of(TTSAudioRawFrame))
        result.reported = [f"{f.error} {f.exception!r}" for f in p.errors()]
        if p.errors():
            result.error = _failure(p.errors()[0], 1)
        elif not p.stops():
            result.error = Failure("NoOutcome", "no stop or error", None, 0)
        result.seconds = time.monotonic() - started
        return result

    async def stt_hold(
        self, *, api_key: str, base_url: str, seconds: float
    ) -> tuple[Failure | None, list[str]]:
        service = SmallestSTTService(
            api_key=api_key,
            base_url=base_url,
            settings=SmallestSTTService.Settings(language=Language.EN),
        )
        silence = bytes(STT_RATE // 50 * 2)
        loop = asyncio.get_running_loop()
        async with Harness(service, in_rate=STT_RATE) as p:
            await p.send(VADUserStartedSpeakingFrame())
            deadline = loop.time() + seconds
            while loop.time() < deadline:
                await p.send(InputAudioRawFrame(silence, STT_RATE, 1))
                await asyncio.sleep(0.02)
            await p.send(VADUserStoppedSpeakingFrame(), UserStoppedSpeakingFrame())
            await p.end()
        errors = p.up.of(ErrorFrame)
        failure = _failure(errors[0], 1) if errors else None
        return failure, [f"{f.error} {f.exception!r}" for f in errors]

    async def stt_stream(
        self,
        emu: Emulator,
        segments: list[bytes],
        *,
        api_key: str,
        base_url: str | None = None,
        reconnect_between: bool = False,
    ) -> STTResult:
        service = SmallestSTTService(
            api_key=api_key,
            base_url=base_url or emu.base_url,
            settings=SmallestSTTService.Settings(language=Language.EN),
        )
        result = STTResult([], [])
        async with Harness(service, in_rate=STT_RATE) as p:
            for n, pcm in enumerate(segments):
                await p.send(VADUserStartedSpeakingFrame(), *_frames(pcm))
                last = n == len(segments) - 1
                if reconnect_between and not last:  # deferred until the user stops speaking
                    delta = SmallestSTTService.Settings(diarize=True)
                    await p.send(STTUpdateSettingsFrame(delta=delta))
                await p.send(VADUserStoppedSpeakingFrame(), UserStoppedSpeakingFrame())
                if not last:
                    await p.wait_until(lambda n=n: len(p.down.of(TranscriptionFrame)) > n, 10)
                    if reconnect_between:
                        await p.wait_until(lambda: service.connections_opened > 1, 3)
            await p.end()
        for f in p.down.of(TranscriptionFrame):
            result.finals.append(f.text)
            result.words += [(w.text, w.start, w.end) for w in f.result.words]
        errors = p.up.of(ErrorFrame)
        if errors:
            result.error = _failure(errors[0], 1)
        return result

    async def v4_turns(
        self,
        emu: Emulator,
        texts: list[str],
        *,
        api_key: str,
        barge_in_first_after_bytes: int | None = None,
    ) -> list[TurnResult]:
        service = SmallestLightningV4TTSService(api_key=api_key, base_url=emu.base_url)
        results: list[TurnResult] = []
        read: set[str] = set()
        async with Harness(service, in_rate=STT_RATE) as p:
            for i, text in enumerate(texts):
                read |= {f.context_id for f in p.down.of(TTSAudioRawFrame)}
                p.down.clear()
                p.up.clear()
                await p.send(LLMFullResponseStartFrame(), LLMTextFrame(text))
                await p.send(LLMFullResponseEndFrame())

                def audio(read: set[str] = read) -> bytes:
                    frames = p.down.of(TTSAudioRawFrame)
                    return b"".join(f.audio for f in frames if f.context_id not in read)

                def ended() -> bool:
                    return bool(p.stops() or p.errors())

                result = TurnResult(b"")
                cut = barge_in_first_after_bytes if i == 0 else None
                if cut is not None:
                    await p.wait_until(lambda cut=cut: ended() or len(audio()) >= cut, 15)
                    if not ended():
                        result.interrupted = True
                        seen = len(p.down.of(InterruptionFrame))
                        await p.send(InterruptionFrame())
                        await p.wait_until(
                            lambda seen=seen: len(p.down.of(InterruptionFrame)) > seen, 15
                        )
                else:
                    await p.wait_until(ended, 15)
                result.audio = audio()
                if p.errors():
                    result.error = _failure(p.errors()[0], 1)
                results.append(result)
            await p.end()
        return results

    async def pulse2_stream(
        self, emu: Emulator, pcm: bytes, *, api_key: str
    ) -> tuple[STTResult, list[dict[str, Any]]]:
        service = SmallestSTTService(
            api_key=api_key,
            base_url=emu.base_url,
            settings=SmallestSTTService.Settings(model="pulse-2", language=Language.EN),
        )
        result = STTResult([], [])
        outputs: list[dict[str, Any]] = []
        async with Harness(service, in_rate=STT_RATE) as p:
            await p.send(VADUserStartedSpeakingFrame(), *_frames(pcm))
            await p.send(VADUserStoppedSpeakingFrame(), UserStoppedSpeakingFrame())
            await p.wait_until(lambda: bool(p.down.of(TranscriptionFrame)), 10)
            await p.end()
        for f in p.down.of(TranscriptionFrame):
            result.finals.append(f.text)
            meta = dict(getattr(f, "metadata", None) or {})
            outputs.append({k: meta[k] for k in ("emotion", "gender") if k in meta})
        errors = p.up.of(ErrorFrame)
        if errors:
            result.error = _failure(errors[0], 1)
        return result, outputs

    # -- one pipeline held open, every frame timestamped (benchmarks) -------------------

    def _make_tts(self) -> Any:
        if self.official:
            from pipecat.services.smallest import tts as official

            return official.SmallestTTSService(
                api_key=self.api_key,
                base_url=self.base_url.replace("http://", "ws://", 1),
                sample_rate=TIMED_RATE,
                word_timestamps=self.words,
                settings=official.SmallestTTSService.Settings(
                    voice=self.voice, model="lightning_v3.1", language=Language.EN
                ),
            )
        return SmallestTTSService(
            api_key=self.api_key,
            base_url=self.base_url,
            sample_rate=TIMED_RATE,
            word_timestamps=self.words,
            settings=SmallestTTSService.Settings(
                voice=self.voice, model="lightning_v3.1", language=Language.EN
            ),
        )

    async def __aenter__(self) -> PipecatDriver:
        self._h = Harness(self._make_tts(), out_rate=TIMED_RATE, upstream=False)
        await self._h.__aenter__()
        return self

    async def close(self) -> None:
        await self._h.__aexit__(None, None, None)

    def _deliveries(self, start: int) -> dict[str, Delivery]:
        """Frames since ``start`` grouped by audio context, in order of first appearance."""
        out: dict[str, Delivery] = {}
        for seen in self._h.down.seen[start:]:
            t, f = seen.at, seen.frame
            cid = getattr(f, "context_id", None)
            if isinstance(f, TTSAudioRawFrame) and cid:
                d = out.setdefault(cid, Delivery())
                d.pushes.append((t, len(f.audio)))
                d.audio += f.audio
            elif isinstance(f, TTSTextFrame) and cid and f.pts is not None:
                # a word may come before its context's first audio
                out.setdefault(cid, Delivery()).words.append((f.text, f.pts / 1e9))
        return out

    def _stopped(self, start: int) -> int:
        return len(self._h.down.of(TTSStoppedFrame, start))

    async def turn(self, tokens: list[str], gap_s: float = 0.0) -> Delivery:
        h = self._h
        start = len(h.down.seen)
        t0 = now()
        await h.send(LLMFullResponseStartFrame())
        for i, tok in enumerate(tokens):
            if i and gap_s:
                await asyncio.sleep(gap_s)
            await h.send(LLMTextFrame(tok))
        await h.send(LLMFullResponseEndFrame())
        await h.wait_for(lambda: self._stopped(start) >= 1)
        spoken = [d for d in self._deliveries(start).values() if d.pushes]
        d = spoken[0] if spoken else Delivery()
        d.started = t0
        return d

    async def pair(self, first: str, second: str) -> list[Delivery]:
        start = len(self._h.down.seen)
        t0 = now()
        await self._h.send(TTSSpeakFrame(first), TTSSpeakFrame(second))
        await self._h.wait_for(lambda: self._stopped(start) >= 2)
        spoken = [d for d in self._deliveries(start).values() if d.pushes]
        for d in spoken:
            d.started = t0
        return spoken

    async def barge(self, tokens: list[str], cut_after_bytes: int) -> tuple[Delivery, float, float]:
        h = self._h
        start = len(h.down.seen)
        t0 = now()
        await h.send(TTSSpeakFrame("".join(tokens)))
        await h.wait_for(lambda: h.down.audio_bytes_since(start) >= cut_after_bytes)
        cut = now()
        await h.send(InterruptionFrame())
        returned = now()
        await h.wait_for(lambda: bool(h.down.of(InterruptionFrame, start)))
        await asyncio.sleep(STALE_WINDOW_S)  # anything stale arrives now
        d = next(iter(self._deliveries(start).values()))
        d.started = t0
        return d, cut, returned

    def _make_stt(self) -> Any:
        if self.official:
            from pipecat.services.smallest import stt as official

            return official.SmallestSTTService(
                api_key=self.api_key, base_url=self.base_url.replace("http://", "ws://", 1)
            )
        return SmallestSTTService(api_key=self.api_key, base_url=self.base_url)

    async def utterance(self, pcm: bytes, *, finalize: bool, realtime: bool = False) -> Heard:
        heard = Heard()
        h = Harness(self._make_stt(), in_rate=STT_RATE, upstream=False)

        def final() -> bool:
            got = [s for s in h.down.timed(TranscriptionFrame) if s.frame.text]
            if got and not heard.final_at:
                heard.final_at, heard.final_text = got[0].at, got[0].frame.text
            return bool(got)

        async with h:
            await h.send(VADUserStartedSpeakingFrame())
            async for f in paced(stt_frames(pcm), realtime):
                await h.send(InputAudioRawFrame(audio=f, sample_rate=STT_RATE, num_channels=1))
            heard.finalize_at = now()
            if finalize:
                await h.send(VADUserStoppedSpeakingFrame())
                with contextlib.suppress(TimeoutError):
                    await h.wait_for(final, within=8)
            else:
                with contextlib.suppress(TimeoutError):
                    await h.end(within=10)
                final()
        return heard


def _frames(pcm: bytes, ms: int = 20) -> list[InputAudioRawFrame]:
    step = STT_RATE * 2 * ms // 1000
    return [InputAudioRawFrame(pcm[i : i + step], STT_RATE, 1) for i in range(0, len(pcm), step)]
