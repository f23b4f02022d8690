"""STT WebSocket protocol (§6, §12.2): interims, finals, VAD events, keepalive."""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from typing import Any

from aiohttp import WSMsgType, web

from smallest_emulator import audio, frames, stt_extras
from smallest_emulator.config import EmulatorConfig
from smallest_emulator.records import SttRecord
from smallest_emulator.state import EmulatorState
from smallest_emulator.stt_params import SttParams
from smallest_emulator.transcripts import Segment, Transcriber, to_pcm16, word_objects

_BYTES_PER_SAMPLE = {"linear16": 2, "linear32": 4, "alaw": 1, "mulaw": 1}


class SttWsSession:
    """One STT WebSocket connection."""

    def __init__(
        self,
        state: EmulatorState,
        ws: web.WebSocketResponse,
        request: web.Request,
        cfg: EmulatorConfig,
        params: SttParams,
        record: SttRecord,
    ) -> None:
        self.state, self.ws, self.request, self.cfg, self.p = state, ws, request, cfg, params
        self.record = record
        self.session_id = str(uuid.uuid4())
        self.transcriber = Transcriber(state, cfg, params.sample_rate)
        self.segment = Segment()
        self.time_s = 0.0  # seconds of audio received since the first frame
        self.in_speech = False
        self.trailing_s = 0.0
        self.fired: set[str] = set()
        self.full: list[str] = []
        self.errors: list[str] = []
        if params.turn_outputs:
            params.endpointing = True
        self.end_of_speech_ms = params.eou_timeout_ms
        if params.endpointing:
            window = params.endpointing_ms or cfg.stt_endpointing_ms or params.eou_timeout_ms
            self.end_of_speech_ms = min(window, params.eou_timeout_ms)

    async def send(self, frame: dict[str, Any]) -> None:
        """Send one JSON frame."""
        if self.ws.closed:
            raise ConnectionResetError("socket closed")
        if frame.get("type") == "error" or frame.get("status") == "error" or "error" in frame:
            self.errors.append(frames.error_text(frame))
        await self.ws.send_str(frames.dumps(frame))

    async def send_error(self, message: str) -> None:
        """Send an error frame in the connection's STT error shape."""
        await self.send(frames.stt_ws_error(self.cfg.stt_error_shape, message, self.session_id))

    async def run(self) -> None:
        """Receive loop."""
        try:
            await self._loop()
        except ConnectionError:
            pass
        finally:
            self.record.closed = True
            if not self.ws.closed:
                await self.ws.close()

    async def _loop(self) -> None:
        while not self.ws.closed:
            try:
                msg = await self.ws.receive(timeout=self.cfg.idle_timeout_s)
            except TimeoutError:
                await self.send_error("Session timed out due to inactivity")
                await self.ws.close(code=1000)
                return
            if self.cfg.never_answer:
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    continue
                return
            if msg.type == WSMsgType.BINARY:
                if await self._on_audio(msg.data):
                    return
            elif msg.type == WSMsgType.TEXT:
                if await self._on_control(msg.data):
                    return
            else:
                return

    async def _on_control(self, data: str) -> bool:
        try:
            msg = json.loads(data)
        except ValueError:
            msg = None
        if not isinstance(msg, dict):
            await self.send_error("Invalid control message")
            return False
        self.record.control_messages.append(msg)
        kind = msg.get("type")
        if kind == "keepalive":
            await self.send(frames.stt_pong())
        elif kind == "finalize":
            await self._final(from_finalize=True)
        elif kind in ("close_stream", "end"):
            await self._final(is_last=True)
            await self.ws.close(code=1000)
            return True
        else:
            await self.send_error(f"Unknown control message type: {kind}")
        return False

    async def _on_audio(self, data: bytes) -> bool:
        cfg, p = self.cfg, self.p
        self.record.audio_bytes += len(data)
        self.record.audio_chunks += 1
        n = self.record.audio_chunks
        pcm = to_pcm16(data, p.encoding)
        if pcm is None:  # opus: not decoded; each frame counts as 20 ms of speech
            dur, speech = 0.02, True
        else:
            dur = len(data) / _BYTES_PER_SAMPLE[p.encoding] / p.sample_rate
            speech = audio.peak(pcm) >= cfg.vad_threshold
        start = self.time_s
        self.time_s += dur
        seg = self.segment
        self.transcriber.observe(seg, pcm, speech)
        if speech:
            self.trailing_s = 0.0
            if not self.in_speech:
                self.in_speech = True
                if p.vad_events:
                    await self._vad("speech_started", start)
            if seg.start_s is None:
                seg.start_s = start
            seg.speech_s += dur
            words = self.transcriber.heard_words(seg)
            if words:
                await self._transcript(" ".join(words), words, is_final=False)
        else:
            self.trailing_s += dur
            if self.in_speech and self.trailing_s * 1000 >= self.end_of_speech_ms:
                self.in_speech = False
                ended_at = self.time_s - self.trailing_s
                if p.endpointing and seg.has_speech:
                    await self._final(speech_ended=True)
                if p.vad_events:
                    await self._vad("speech_ended", ended_at)
        return await self._faults(n)

    async def _faults(self, n: int) -> bool:
        cfg = self.cfg
        if cfg.malformed_json_after_chunks == n:
            await self.ws.send_str(frames.stt_malformed())
        if cfg.unknown_status_after_chunks == n:
            await self.send(frames.stt_unknown_type(self.session_id))
        if cfg.binary_frame_after_chunks == n:
            await self.ws.send_bytes(b"\x00\x01\x02\x03")
        if cfg.error_after_chunks == n:
            await self.send_error(cfg.error_message)
            await self.ws.close(code=1011)
            return True
        if cfg.close_after_chunks == n:
            if self.request.transport is not None:
                self.request.transport.abort()
            return True
        return False

    async def _vad(self, kind: str, ts: float) -> None:
        frame = frames.stt_vad(kind, self.session_id, ts)
        self.record.events.append(frame)
        await self.send(frame)

    async def _final(
        self, *, from_finalize: bool = False, is_last: bool = False, speech_ended: bool = False
    ) -> None:
        seg = self.segment
        text = await self.transcriber.final_text(seg)
        self.segment = Segment()
        start = seg.start_s if seg.start_s is not None else self.time_s
        await self._transcript(
            text,
            text.split(),
            is_final=True,
            is_last=is_last,
            from_finalize=from_finalize,
            start=start,
            speech_ended=speech_ended,
        )

    async def _transcript(
        self,
        text: str,
        words: list[str],
        *,
        is_final: bool,
        is_last: bool = False,
        from_finalize: bool = False,
        start: float | None = None,
        speech_ended: bool = False,
    ) -> None:
        p = self.p
        entities: list[str] = []
        if is_final and (p.redact_pii or p.redact_pci):
            text, entities = stt_extras.redact(text, pii=p.redact_pii, pci=p.redact_pci)
            words = text.split()
        frame = frames.stt_transcript(
            self.session_id, text, is_final=is_final, is_last=is_last, from_finalize=from_finalize
        )
        if is_final:
            frame["language"] = p.final_language
            frame["languages"] = [p.final_language]
            if text:
                self.full.append(text)
            if self.cfg.stt_speech_final or p.turn_outputs:
                frame["speech_final"] = speech_ended
            if p.redact_pii or p.redact_pci:
                frame["redacted_entities"] = entities
            if p.turn_outputs and text:
                frame["emotions"] = stt_extras.emotions(text)
                frame["gender"] = stt_extras.gender(text)
        if p.full_transcript:
            frame["full_transcript"] = " ".join([*self.full, *([] if is_final else [text])])
        seg_start = start if start is not None else (self.segment.start_s or 0.0)
        word_list = word_objects(words, seg_start, self.cfg, p.diarize)
        if p.word_timestamps:
            frame["words"] = word_list
        if p.sentence_timestamps and is_final:
            frame["utterances"] = stt_extras.utterances(
                text, word_list, seg_start, self.time_s, p.diarize
            )
        self.record.transcripts.append(frame)
        await self.send(frame)
        if is_final and self.record.trace:
            self.record.finals_sent_at.append(time.monotonic())


async def reject_concurrency(session: SttWsSession) -> None:
    """Send the concurrency error frame and close 1008 (§6.4)."""
    with contextlib.suppress(ConnectionError):
        await session.send_error("Concurrency limit exceeded")
    await session.ws.close(code=1008, message=b"Concurrency limit exceeded")
