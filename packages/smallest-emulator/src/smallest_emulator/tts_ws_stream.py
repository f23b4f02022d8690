"""Synthesize one TTS WebSocket release and stream its chunks and word timestamps."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING

from smallest_emulator import frames
from smallest_emulator.engines.deterministic import Synthesis, WordSpan
from smallest_emulator.records import TtsRecord, WordRecord
from smallest_emulator.tts_common import Pacer, TtsParams, encode_chunks, synthesize
from smallest_emulator.tts_ws_context import Context, Job

if TYPE_CHECKING:
    from smallest_emulator.tts_ws import TtsWsSession


async def stream_release(session: TtsWsSession, job: Job) -> bool:
    """Synthesize and send ``job``; False when it was refused, failed or cancelled."""
    ctx, state = job.ctx, session.state
    if session.faults.over_concurrency(state.inflight_syntheses):
        ctx.failed = True
        ctx.record.error = "Concurrency limit exceeded"
        refusal = session.policy.error(
            "Concurrency limit exceeded", code="concurrency_limit_exceeded"
        )
        await session.send(refusal)
        return False
    state.inflight_syntheses += 1
    try:
        return await _stream(session, job, ctx, job.params or ctx.params)
    finally:
        state.inflight_syntheses -= 1


def _record_words(
    rec: TtsRecord, ctx: Context, syn: Synthesis, origin: int, sr: int, request_id: str
) -> None:
    for w in syn.words:
        rec.words.append(
            WordRecord(
                id=w.index,
                word=w.word,
                start_sample=w.start_sample,
                end_sample=w.end_sample,
                start=(origin + w.start_sample) / sr,
                end=(origin + w.end_sample) / sr,
                request_id=request_id,
                context_start_sample=ctx.context_samples + w.start_sample,
            )
        )


def _word_frame(ids: frames.Frame, w: WordSpan, origin: int, sr: int) -> frames.Frame:
    start, end = (origin + w.start_sample) / sr, (origin + w.end_sample) / sr
    return frames.tts_word(ids, w.index, w.word, start, end)


async def _stream(session: TtsWsSession, job: Job, ctx: Context, p: TtsParams) -> bool:
    cfg, rec, policy, faults = session.cfg, ctx.record, session.policy, session.faults
    if not job.text.strip() and rec.request_ids:
        return True  # closing message with nothing left: no new release
    request_id = f"task_{uuid.uuid4().hex[:16]}"
    ctx.last_request_id = request_id
    rec.request_ids.append(request_id)
    rec.releases.append(job.text)
    started = time.monotonic()
    syn = await synthesize(session.state, cfg, job.text, p, first_index=ctx.word_index)
    ctx.word_index += len(syn.words)
    origin = policy.word_origin(ctx)
    sr = p.sample_rate
    _record_words(rec, ctx, syn, origin, sr, request_id)
    sent_before = len(rec.pcm)  # this release's bytes follow the earlier releases'
    rec.pcm += syn.pcm
    ctx.context_samples += len(syn.pcm) // 2
    send_words = policy.sends_words(p)
    chunks = encode_chunks(syn.pcm, p.output_format, sr, cfg.chunk_bytes)
    await faults.first_byte_delay()
    ids = session.ids(ctx, request_id)
    words = syn.words if send_words else []
    wi = 0
    pacer = Pacer(cfg.speed, sr)
    for chunk in chunks:
        if job.stale:
            if ctx.cancel_budget <= 0:
                return False
            ctx.cancel_budget -= 1
        while wi < len(words) and words[wi].start_sample < chunk.end_sample:
            await session.send(_word_frame(ids, words[wi], origin, sr))
            wi += 1
        await session.send(frames.tts_chunk(ids, chunk.b64))
        session.chunks_sent += 1
        ctx.chunks += 1
        rec.chunks_sent += 1
        rec.bytes_sent += len(chunk.data)
        if rec.trace:
            rec.sends.append((sent_before + chunk.end_sample * 2, time.monotonic()))
        if await faults.after_chunk(session, ctx, request_id):
            return False
        await faults.pause(ctx, pacer)
        await pacer.wait_until(chunk.end_sample)
    if job.stale:
        return False
    for w in words[wi:]:
        await session.send(_word_frame(ids, w, origin, sr))
    session.state.requests.append(
        f"WS tts {session.conn_id} context={ctx.key} request={request_id} "
        f"chars={len(job.text)} bytes={sum(len(c.data) for c in chunks)} "
        f"{(time.monotonic() - started) * 1000:.0f}ms"
    )
    return True
