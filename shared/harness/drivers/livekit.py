"""LiveKit Agents: ``TTS.stream()`` segments and ``STT.stream()`` inside ``utils.http_context``.

Barge-in is what an AgentSession does: stop reading the segment and ``aclose()`` it, or
cancel the task that consumes it (its ``async with`` then closes the stream).
Retries are LiveKit's own (``APIConnectOptions``); every attempt emits an ``error`` event,
so ``attempts`` is the number of those events.
Held open for the benchmarks, the same driver speaks through ours or the official plugin
(``impl``) on one aiohttp session of its own, as one agent job has.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import aiohttp
from livekit import rtc
from livekit.agents import (
    APIConnectOptions,
    APIError,
    APIStatusError,
    APITimeoutError,
    stt,
    tts,
    utils,
)
from livekit.agents.types import USERDATA_TIMED_TRANSCRIPT

from smallest_core import Endpoints
from smallest_livekit import STT, TTS, LightningV4TTS

from .base import Caps, Driver, Failure, STTResult, Turn, TurnResult
from .timing import RATE as TIMED_RATE
from .timing import STT_RATE, Delivery, Heard, feed, now, paced, stt_frames

if TYPE_CHECKING:
    from smallest_emulator import Emulator


def _pcm(ev: tts.SynthesizedAudio) -> bytes:
    """The frame's PCM, without LiveKit's synthetic 10 ms silent end-of-segment marker."""
    frame = ev.frame
    data = frame.data.tobytes()
    marker = frame.samples_per_channel == frame.sample_rate // 100 and not any(data)
    return b"" if ev.is_final and marker else data


def _failure(exc: APIError, attempts: int) -> Failure:
    status = exc.status_code if isinstance(exc, APIStatusError) else None
    kind = "timeout" if isinstance(exc, APITimeoutError) else None
    return Failure(type(exc).__name__, exc.message, exc.retryable, attempts, status, kind)


class LiveKitDriver(Driver):
    name = "livekit"
    caps = Caps(
        exact_text=True,
        word_times=True,
        retries_in_framework=True,
        stt_reconnect="STT.update_options() (the stream reconnects with close_stream)",
    )

    def build_tts(self, *, api_key: str | None, base_url: str | None, **options: Any) -> TTS:
        return TTS(api_key=api_key, base_url=base_url, **options)

    def build_stt(self, *, api_key: str | None, base_url: str | None, **options: Any) -> STT:
        return STT(api_key=api_key, base_url=base_url, **options)

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
        conn = APIConnectOptions(max_retry=max_retry, retry_interval=0.0, timeout=timeout_s)
        async with utils.http_context.open():
            engine = TTS(
                api_key=api_key,
                base_url=base_url or emu.base_url,
                voice_id=self.voice,
                word_timestamps=word_timestamps,
            )
            if server_idle_timeout:
                engine._idle_timeout_s = 0  # no ?timeout=: the constructor insists on > 30 s
            errors: list[Any] = []
            engine.on("error", errors.append)
            try:
                for i, t in enumerate(turns):
                    if t.options:
                        engine.update_options(**t.options)
                    errors.clear()
                    results.append(await self._turn(engine, t, conn, errors))
                    if between is not None:
                        await between(i, results[-1])
            finally:
                await engine.aclose()
        return results

    async def _turn(
        self, engine: TTS, t: Turn, conn: APIConnectOptions, errors: list[Any]
    ) -> TurnResult:
        started = time.monotonic()
        audio = bytearray()
        words: list[tuple[str, float, float | None]] = []
        result = TurnResult(b"")
        stream = engine.stream(conn_options=conn)

        async def consume() -> None:
            async for ev in stream:
                audio.extend(_pcm(ev))
                for w in ev.frame.userdata.get(USERDATA_TIMED_TRANSCRIPT, []):
                    words.append((str(w).strip(), float(w.start_time), float(w.end_time)))
                cut = t.barge_in_after_bytes
                if cut is not None and len(audio) >= cut:
                    result.interrupted = True
                    return

        async def consume_and_close() -> None:
            async with stream:  # as an agent's TTS node: closed however it ends
                await consume()

        try:
            for token in t.tokens:
                stream.push_text(token)
            stream.end_input()
            if t.barge_in_after_s is None:
                await consume()
            else:
                task = asyncio.create_task(consume_and_close())
                await asyncio.wait({task}, timeout=t.barge_in_after_s)
                if not task.done():
                    result.interrupted = True
                    if t.cancel_task:
                        task.cancel()
                    else:
                        await stream.aclose()
                async with asyncio.timeout(conn.timeout * 3 + 5):
                    (outcome,) = await asyncio.gather(task, return_exceptions=True)
                if isinstance(outcome, APIError):
                    raise outcome
        except APIError as exc:
            result.error = _failure(exc, len(errors))
        finally:
            await stream.aclose()
        result.audio, result.words = bytes(audio), words
        result.reported = [f"{e!r}" for e in errors]
        result.seconds = time.monotonic() - started
        return result

    async def http_turn(
        self, text: str, *, api_key: str, base_url: str, timeout_s: float = 5.0
    ) -> TurnResult:
        started = time.monotonic()
        result = TurnResult(b"")
        audio = bytearray()
        conn = APIConnectOptions(max_retry=0, retry_interval=0.0, timeout=timeout_s)
        async with utils.http_context.open():
            engine = TTS(api_key=api_key, base_url=base_url, voice_id=self.voice)
            engine.on("error", lambda ev: result.reported.append(f"{ev!r}"))
            try:
                async with engine.synthesize(text, conn_options=conn) as stream:
                    async for ev in stream:
                        audio += _pcm(ev)
            except APIError as exc:
                result.error = _failure(exc, 1)
            finally:
                await engine.aclose()
        result.audio = bytes(audio)
        result.seconds = time.monotonic() - started
        return result

    async def stt_hold(
        self, *, api_key: str, base_url: str, seconds: float
    ) -> tuple[Failure | None, list[str]]:
        errors: list[str] = []
        failure: Failure | None = None
        async with utils.http_context.open():
            engine = STT(api_key=api_key, base_url=base_url, vad_events=False)
            engine.on("error", lambda ev: errors.append(f"{ev!r}"))
            stream = engine.stream()  # LiveKit's default connect options: what users get
            silence = rtc.AudioFrame(
                data=bytes(STT_RATE // 10 * 2),
                sample_rate=STT_RATE,
                num_channels=1,
                samples_per_channel=STT_RATE // 10,
            )

            async def feed() -> None:
                while True:
                    stream.push_frame(silence)
                    await asyncio.sleep(0.1)

            feeder = asyncio.create_task(feed())
            try:
                async with asyncio.timeout(seconds):
                    async for _ in stream:
                        pass
            except TimeoutError:
                pass
            except APIError as exc:
                failure = _failure(exc, 1)
                errors.append(str(exc))
            finally:
                feeder.cancel()
                await asyncio.gather(feeder, return_exceptions=True)
                await stream.aclose()
                await engine.aclose()
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
        result = STTResult([], [])
        async with utils.http_context.open():
            engine = STT(api_key=api_key, base_url=base_url or emu.base_url, vad_events=False)
            stream = engine.stream(conn_options=APIConnectOptions(max_retry=0, timeout=5.0))
            try:
                for n, pcm in enumerate(segments):
                    for frame in _frames(pcm):
                        stream.push_frame(frame)
                    stream.flush()
                    if n < len(segments) - 1:
                        await self._until_final(stream, result, len(result.finals) + 1)
                        if reconnect_between:
                            engine.update_options(keywords=[("conformance", 1.0)])
                stream.end_input()
                await self._until_final(stream, result, None)
            except APIError as exc:
                result.error = _failure(exc, 1)
            finally:
                await stream.aclose()
        return result

    @staticmethod
    async def _until_final(stream: Any, result: STTResult, count: int | None) -> None:
        async for ev in stream:
            if ev.type is stt.SpeechEventType.FINAL_TRANSCRIPT:
                alt = ev.alternatives[0]
                if alt.text:
                    result.finals.append(alt.text)
                    result.words += [(str(w), w.start_time, w.end_time) for w in alt.words or []]
                if count is not None and len(result.finals) >= count:
                    return

    async def v4_turns(
        self,
        emu: Emulator,
        texts: list[str],
        *,
        api_key: str,
        barge_in_first_after_bytes: int | None = None,
    ) -> list[TurnResult]:
        results: list[TurnResult] = []
        conn = APIConnectOptions(max_retry=0, retry_interval=0.0, timeout=5.0)
        async with utils.http_context.open():
            engine = LightningV4TTS(api_key=api_key, base_url=emu.base_url, sample_rate=24000)
            try:
                for i, text in enumerate(texts):
                    cut = barge_in_first_after_bytes if i == 0 else None
                    results.append(await self._v4_turn(engine, text, conn, cut))
            finally:
                await engine.aclose()
        return results

    @staticmethod
    async def _v4_turn(
        engine: LightningV4TTS, text: str, conn: APIConnectOptions, cut: int | None
    ) -> TurnResult:
        result = TurnResult(b"")
        stream = engine.stream(conn_options=conn)
        stream.push_text(text)
        stream.end_input()
        try:
            async with asyncio.timeout(15):
                async for ev in stream:
                    result.audio += _pcm(ev)
                    if cut is not None and len(result.audio) >= cut:
                        result.interrupted = True  # what an AgentSession does on barge-in
                        break
        except APIError as exc:
            result.error = _failure(exc, 1)
        finally:
            await stream.aclose()
        return result

    async def pulse2_stream(
        self, emu: Emulator, pcm: bytes, *, api_key: str
    ) -> tuple[STTResult, list[dict[str, Any]]]:
        result = STTResult([], [])
        outputs: list[dict[str, Any]] = []
        async with utils.http_context.open():
            engine = STT(api_key=api_key, base_url=emu.base_url, model="pulse-2")
            stream = engine.stream()
            try:
                for frame in _frames(pcm):
                    stream.push_frame(frame)
                stream.end_input()
                async with asyncio.timeout(15):
                    async for ev in stream:
                        if ev.type is stt.SpeechEventType.FINAL_TRANSCRIPT and ev.alternatives:
                            data = ev.alternatives[0]
                            result.finals.append(data.text)
                            meta = dict(getattr(data, "metadata", None) or {})
                            outputs.append(
                                {k: meta.get(k) for k in ("emotion", "gender") if k in meta}
                            )
            except APIError as exc:
                result.error = _failure(exc, 1)
            finally:
                await stream.aclose()
                await engine.aclose()
        return result, outputs

    # -- one plugin held open, every chunk timestamped (benchmarks) ----------------------

    def _make_tts(self) -> Any:
        if self.official:
            from livekit.plugins import smallestai

            return smallestai.TTS(
                api_key=self.api_key,
                model="lightning_v3.1",
                voice_id=self.voice,
                sample_rate=TIMED_RATE,
                word_timestamps=self.words,
                base_url=f"{self.base_url}/waves/v1",
                ws_url=Endpoints.resolve(self.base_url).tts_ws(),
                http_session=self._session,
            )
        return TTS(
            api_key=self.api_key,
            base_url=self.base_url,
            voice_id=self.voice,
            sample_rate=TIMED_RATE,
            word_timestamps=self.words,
            http_session=self._session,
        )

    async def __aenter__(self) -> LiveKitDriver:
        self._http = utils.http_context.open()
        await self._http.__aenter__()
        # One session per instance, as one agent job has: the job context's shared session
        # allows 50 connections per host, which would cap a concurrency run at 50.
        self._session = aiohttp.ClientSession()
        self._engine = self._make_tts()
        return self

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._engine.aclose()
        await self._session.close()
        await self._http.__aexit__(None, None, None)

    async def warm(self) -> None:
        await super().warm()
        if self.official:
            # it reconnects in the background after a turn (a socket per turn): let that
            # finish too, so the measured turn starts on a warm socket
            await asyncio.sleep(0.3)

    @staticmethod
    def _record(ev: tts.SynthesizedAudio, d: Delivery) -> None:
        d.add(_pcm(ev))
        for w in ev.frame.userdata.get(USERDATA_TIMED_TRANSCRIPT, []) or []:
            start = getattr(w, "start_time", None)
            if isinstance(start, (int, float)):
                d.words.append((str(w), float(start)))
                d.word_times.append((str(w), now()))

    async def turn(self, tokens: list[str], gap_s: float = 0.0) -> Delivery:
        d = Delivery()
        stream = self._engine.stream()
        task = asyncio.ensure_future(feed(stream.push_text, stream.end_input, tokens, gap_s, d))
        try:
            async for ev in stream:
                self._record(ev, d)
        finally:
            await task
            await stream.aclose()
        return d

    async def barge(self, tokens: list[str], cut_after_bytes: int) -> tuple[Delivery, float, float]:
        d = Delivery()
        stream = self._engine.stream()
        await feed(stream.push_text, stream.end_input, tokens, 0.0, d)
        cut = returned = 0.0
        async for ev in stream:
            self._record(ev, d)
            if len(d.audio) >= cut_after_bytes:
                cut = now()
                await stream.aclose()  # what the agent does on barge-in
                returned = now()
                break
        return d, cut, returned

    def _make_stt(self) -> Any:
        if self.official:
            from livekit.plugins import smallestai

            return smallestai.STT(
                api_key=self.api_key, base_url=f"{self.base_url}/waves/v1", sample_rate=STT_RATE
            )
        return STT(api_key=self.api_key, base_url=self.base_url, sample_rate=STT_RATE)

    async def utterance(self, pcm: bytes, *, finalize: bool, realtime: bool = False) -> Heard:
        heard = Heard()
        async with utils.http_context.open():
            engine = self._make_stt()
            stream = engine.stream()

            async def send() -> None:
                async for f in paced(stt_frames(pcm), realtime):
                    stream.push_frame(rtc.AudioFrame(f, STT_RATE, 1, len(f) // 2))
                heard.finalize_at = now()
                if finalize:
                    stream.flush()
                else:
                    stream.end_input()

            task = asyncio.ensure_future(send())
            try:
                async with asyncio.timeout(8):
                    async for ev in stream:
                        if ev.type == stt.SpeechEventType.FINAL_TRANSCRIPT:
                            text = ev.alternatives[0].text if ev.alternatives else ""
                            if text and not heard.final_at:
                                heard.final_at, heard.final_text = now(), text
                                if finalize:
                                    break
            except TimeoutError:
                pass
            finally:
                await task
                await stream.aclose()
                with contextlib.suppress(Exception):
                    await engine.aclose()
        return heard


def _frames(pcm: bytes, ms: int = 100) -> list[rtc.AudioFrame]:
    step = STT_RATE * ms // 1000 * 2
    return [
        rtc.AudioFrame(
            data=pcm[i : i + step],
            sample_rate=STT_RATE,
            num_channels=1,
            samples_per_channel=len(pcm[i : i + step]) // 2,
        )
        for i in range(0, len(pcm), step)
    ]
