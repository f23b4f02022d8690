"""``STT.recognize()``: one WAV upload to ``POST /waves/v1/stt/``, one final transcript."""

from __future__ import annotations

import aiohttp
from livekit import rtc
from livekit.agents import APIError, LanguageCode, stt, utils
from livekit.agents.types import TimedString

from smallest_core import SmallestError, STTOptions, parse_batch_response

from ._common import Connection
from ._errors import http_error, to_api_error, transport_error
from ._stt_events import speaker_id


async def transcribe(
    conn: Connection, url: str, frame: rtc.AudioFrame, opts: STTOptions, connect_timeout: float
) -> stt.SpeechEvent:
    """Upload ``frame`` to ``url``; the result as a LiveKit final (errors as ``APIError``)."""
    headers = {**conn.headers(), "Content-Type": "audio/wav"}
    try:
        async with conn.session().post(
            url,
            data=frame.to_wav_bytes(),
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout),
        ) as resp:
            if resp.status >= 400:
                raise await http_error(resp)
            result = parse_batch_response(resp.status, await resp.read(), dict(resp.headers))
    except APIError:
        raise
    except SmallestError as exc:
        raise to_api_error(exc) from None
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        raise transport_error(exc, "Smallest STT request failed", url=url) from None
    words = [
        TimedString(w.text, start_time=w.start, end_time=w.end, speaker_id=speaker_id(w.speaker))
        for w in result.words
    ]
    confidences = [w.confidence for w in result.words if w.confidence is not None]
    return stt.SpeechEvent(
        type=stt.SpeechEventType.FINAL_TRANSCRIPT,
        request_id=result.request_id or utils.shortuuid(),
        alternatives=[
            stt.SpeechData(
                language=LanguageCode(result.language or opts.language),
                text=result.text,
                start_time=result.words[0].start if result.words else 0.0,
                end_time=result.words[-1].end if result.words else (result.duration or 0.0),
                confidence=sum(confidences) / len(confidences) if confidences else 0.0,
                words=words or None,
                metadata=result.metadata() or None,
            )
        ],
    )
