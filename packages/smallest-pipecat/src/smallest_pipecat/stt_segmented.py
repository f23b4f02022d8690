"""Pulse pre-recorded transcription of each spoken segment (``POST /waves/v1/stt/``).

Pipecat's VAD cuts the user's speech into segments; each one is uploaded as a WAV file to
Pulse or Pulse Pro and answered with one final transcript, optionally with the speaker's
emotion and gender. For pipelines that prefer one request per utterance to a socket.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from loguru import logger
from pipecat.frames.frames import Frame, TranscriptionFrame
from pipecat.services.settings import STTSettings
from pipecat.services.stt_service import SegmentedSTTService
from pipecat.utils.time import time_now_iso8601
from pipecat.utils.types import NOT_GIVEN, NotGiven, is_given

from smallest_core import (
    ErrorKind,
    SmallestError,
    STTOptions,
    check_batch_stt,
    check_duration,
    parse_batch_response,
    redact,
)
from smallest_core.aio import read_bounded
from smallest_pipecat._common import http_error, request_headers
from smallest_pipecat._http_session import HttpSession
from smallest_pipecat._kwargs import check_kwargs
from smallest_pipecat._stt_wire import PulseService, routed
from smallest_pipecat.errors import error_frame
from smallest_pipecat.languages import language_from_code, stt_language

_MAX_RESPONSE_BYTES = 16 * 1024 * 1024
_MOVED = {
    "params": "InputParams are replaced by settings=SmallestSegmentedSTTService.Settings(...)",
    "encoding": "segments are uploaded as WAV; the server reads the format from the file",
}


@dataclass
class SmallestSegmentedSTTSettings(STTSettings):
    """Settings of :class:`SmallestSegmentedSTTService` (each applies to the next segment).

    Parameters:
        word_timestamps: Words with start/end/confidence on the transcript's ``result``.
        diarize: Speaker labels on words.
        emotion_detection: Emotion scores in ``TranscriptionFrame.metadata``.
        gender_detection: The speaker's gender in ``TranscriptionFrame.metadata``.
        redact_pii, redact_pci: Replace personal / payment data in the transcript.
    """

    word_timestamps: bool | NotGiven = field(default_factory=lambda: NOT_GIVEN)
    diarize: bool | NotGiven = field(default_factory=lambda: NOT_GIVEN)
    emotion_detection: bool | NotGiven = field(default_factory=lambda: NOT_GIVEN)
    gender_detection: bool | NotGiven = field(default_factory=lambda: NOT_GIVEN)
    redact_pii: bool | NotGiven = field(default_factory=lambda: NOT_GIVEN)
    redact_pci: bool | NotGiven = field(default_factory=lambda: NOT_GIVEN)


class SmallestSegmentedSTTService(HttpSession, PulseService, SegmentedSTTService):
    """Smallest AI Pulse / Pulse Pro transcription of each VAD segment.

    Example::

        stt = SmallestSegmentedSTTService(
            settings=SmallestSegmentedSTTService.Settings(
                model="pulse-pro", emotion_detection=True
            ),
        )

    A segment the server hears no words in gives no ``TranscriptionFrame``: it is logged
    as a warning and reported to ``on_empty_transcript(service, duration_s)``.
    """

    Settings = SmallestSegmentedSTTSettings
    _settings: SmallestSegmentedSTTSettings

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        sample_rate: int | None = None,
        region: str = "auto",
        timeout_s: float = 60.0,
        expire_content: bool = False,
        settings: SmallestSegmentedSTTSettings | None = None,
        **kwargs: Any,
    ) -> None:
        """Create the service.

        Args:
            api_key, base_url, region, expire_content: As for
                :class:`SmallestSTTService`.
            sample_rate: Input rate; default the pipeline's.
            timeout_s: Total time allowed for one segment's request.
            settings: Model (``pulse`` or ``pulse-pro``), language and outputs.
            **kwargs: Passed to :class:`SegmentedSTTService`; unknown names raise
                ``TypeError``.
        """
        check_kwargs(
            "SmallestSegmentedSTTService",
            SegmentedSTTService,
            kwargs,
            settings=SmallestSegmentedSTTSettings,
            moved=_MOVED,
        )
        store = self.Settings(
            model="pulse",
            language="en",
            word_timestamps=False,
            diarize=False,
            emotion_detection=False,
            gender_detection=False,
            redact_pii=False,
            redact_pci=False,
        )
        if settings is not None:
            store.apply_update(settings)
        store.language = stt_language(store.language) if store.language else "en"
        self._use_account(api_key, base_url, region, expire_content)
        self._timeout = aiohttp.ClientTimeout(total=check_duration("timeout_s", timeout_s))
        options = _options(store)
        routed(self._endpoints, options.language, self._region)
        super().__init__(sample_rate=sample_rate, settings=store, **kwargs)
        self._session: aiohttp.ClientSession | None = None
        self._register_event_handler("on_empty_transcript")

    async def _update_settings(self, delta: Any) -> dict[str, Any]:
        """Apply a delta to the next segment; an invalid one is refused with an error."""
        if not await self._accept_delta(delta, self._check_settings):
            return {}
        return await super()._update_settings(delta)

    def _check_settings(self, settings: SmallestSegmentedSTTSettings) -> None:
        settings.language = stt_language(settings.language or "en")
        routed(self._endpoints, _options(settings).language, self._region)

    async def run_stt(self, audio: bytes) -> AsyncGenerator[Frame | None, None]:
        """Upload one WAV segment and yield its transcript."""
        options = _options(self._settings)
        query = options.query()
        for name in ("encoding", "sample_rate"):  # the WAV header says both
            query.pop(name, None)
        url = routed(self._endpoints, options.language, self._region).stt_http(query)
        headers = {
            "Content-Type": "audio/wav",
            **request_headers(self._api_key, expire_content=self._expire_content),
        }
        await self.start_ttfb_metrics()
        try:
            async with self.http().post(
                url, data=audio, headers=headers, allow_redirects=False
            ) as response:
                if not 200 <= response.status < 300:
                    raise await http_error(response, "STT")
                body = await read_bounded(response, _MAX_RESPONSE_BYTES)
                result = parse_batch_response(response.status, body, dict(response.headers))
        except SmallestError as exc:
            yield error_frame(exc, "Smallest STT error")
            return
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = SmallestError(
                f"STT request failed: {redact(str(exc))}", kind=ErrorKind.CONNECTION
            )
            yield error_frame(error, "Smallest STT error")
            return
        finally:
            await self.stop_ttfb_metrics()
        text = result.text.strip()
        if not text:
            duration = result.duration or 0.0
            logger.warning(f"{self} heard no words in a {duration:.2f} s segment")
            await self._call_event_handler("on_empty_transcript", duration)
            yield None
            return
        language = language_from_code(result.language or options.language)
        frame = TranscriptionFrame(text, self._user_id, time_now_iso8601(), language, result=result)
        frame.metadata.update(result.metadata())
        yield frame


def _options(settings: SmallestSegmentedSTTSettings) -> STTOptions:
    def flag(name: str) -> bool:
        return getattr(settings, name) is True

    model = settings.model if is_given(settings.model) and settings.model else "pulse"
    language = settings.language if is_given(settings.language) and settings.language else "en"
    options = STTOptions(
        language=str(language),
        model=str(model),
        word_timestamps=flag("word_timestamps"),
        diarize=flag("diarize"),
        redact_pii=flag("redact_pii"),
        redact_pci=flag("redact_pci"),
        emotion_detection=flag("emotion_detection"),
        gender_detection=flag("gender_detection"),
    )
    check_batch_stt(options)
    return options


__all__ = ["SmallestSegmentedSTTService", "SmallestSegmentedSTTSettings"]
