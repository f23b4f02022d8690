"""Lightning text-to-speech over HTTP (``POST /waves/v1/tts``), for pipelines without a socket.

Each sentence is one request; the streamed body is decoded incrementally, so audio
flows while the server is still synthesizing. Lightning v3.2 (HTTP only) goes to its own
route, with the affect of the current settings on every request.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import aiohttp
from pipecat.frames.frames import ErrorFrame, Frame, TTSAudioRawFrame
from pipecat.services.tts_service import TTSService
from pipecat.utils.errors import ErrorCategory

from smallest_core import (
    MAX_ERROR_BODY_BYTES,
    ErrorKind,
    PcmDecoder,
    SmallestError,
    check_duration,
    check_text,
    error_from_audio_response,
    http_request_body,
    http_request_headers,
    name_the_voice,
    redact,
)
from smallest_core.aio import read_bounded
from smallest_pipecat._common import (
    LightningVoices,
    first_supported_rate,
    http_error,
    prepare_service,
    request_headers,
    resolve_tts_language,
)
from smallest_pipecat._failures import ReportedFailures
from smallest_pipecat._http_session import HttpSession
from smallest_pipecat._resample import stream_resampler
from smallest_pipecat.errors import error_frame
from smallest_pipecat.settings import SmallestTTSSettings, initial_tts_settings, tts_options

_READ_BYTES = 4096


class SmallestHttpTTSService(HttpSession, ReportedFailures, LightningVoices, TTSService):
    """Smallest AI Lightning TTS over HTTP, with the same settings as the socket service."""

    Settings = SmallestTTSSettings
    _settings: SmallestTTSSettings

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        sample_rate: int | None = None,
        settings: SmallestTTSSettings | None = None,
        timeout_s: float = 30.0,
        expire_content: bool = False,
        **kwargs: Any,
    ) -> None:
        """Create the service.

        Args:
            api_key: Smallest API key (default: ``SMALLEST_API_KEY``).
            base_url: API root (default: ``SMALLEST_BASE_URL`` or https://api.smallest.ai).
            sample_rate: Output rate; default the pipeline's (unsupported rates resampled).
            settings: Voice, model, language, speed, ... (``max_buffer_delay_ms`` unused).
            timeout_s: Total time allowed for one request.
            expire_content: Ask the server to delete the text and audio after 7 days
                (Enterprise plans; ``x-expire-content``).
            **kwargs: Passed to :class:`TTSService`; unknown names raise ``TypeError``.
        """
        prepare_service(
            self,
            TTSService,
            kwargs,
            settings=SmallestTTSSettings,
            api_key=api_key,
            base_url=base_url,
            sample_rate=sample_rate,
            expire_content=expire_content,
        )
        store = initial_tts_settings(settings, max_buffer_delay_ms=None)
        resolve_tts_language(store)
        self._timeout = aiohttp.ClientTimeout(total=check_duration("timeout_s", timeout_s))
        tts_options(
            store,
            sample_rate=first_supported_rate(sample_rate or 24000),
            word_timestamps=False,
            output_format="pcm",
        )
        super().__init__(
            push_text_frames=True,
            push_stop_frames=True,
            push_start_frame=True,
            sample_rate=sample_rate,
            settings=store,
            **kwargs,
        )
        self._session: aiohttp.ClientSession | None = None
        self._failed_contexts = set()

    async def on_turn_context_completed(self) -> None:
        """End a failed turn at once (with no audio Pipecat would wait for its quiet timer).

        That includes every turn after a permanent error (a rejected key, say): Pipecat
        then no longer asks the service to speak, and each turn would sit out the timer.
        """
        context_id = self._turn_context_id
        if (
            context_id is not None
            and (context_id in self._failed_contexts or not self.is_usable)
            and not self._is_yielding_frames_synchronously
            and self.audio_context_available(context_id)
        ):
            await self.remove_audio_context(context_id)
        await super().on_turn_context_completed()  # type: ignore[no-untyped-call]

    def _check_settings(self, candidate: Any) -> None:
        """The update applies to the next request (affect per utterance)."""
        resolve_tts_language(candidate)
        tts_options(
            candidate,
            sample_rate=first_supported_rate(self.sample_rate),
            word_timestamps=False,
            output_format="pcm",
        )

    async def run_tts(self, text: str, context_id: str) -> AsyncGenerator[Frame | None, None]:
        """Synthesize ``text`` and stream its audio as it arrives."""
        try:
            check_text(text)
        except ValueError as exc:
            self._failed_contexts.add(context_id)
            yield ErrorFrame(
                f"Smallest TTS text refused: {exc}", category=ErrorCategory.APPLICATION
            )
            return
        try:
            options = tts_options(
                self._settings,
                sample_rate=first_supported_rate(self.sample_rate),
                word_timestamps=False,
                output_format="pcm",
            )
        except ValueError as exc:
            self._failed_contexts.add(context_id)
            yield ErrorFrame(f"Smallest TTS settings: {exc}", category=ErrorCategory.APPLICATION)
            return
        headers = {
            **http_request_headers(),
            **request_headers(self._api_key, expire_content=self._expire_content),
        }
        body = http_request_body(options, text)
        decoder = PcmDecoder(options.output_format, options.sample_rate)
        resampler = None
        if options.sample_rate != self.sample_rate:
            resampler = stream_resampler(options.sample_rate, self.sample_rate)
        await self.start_tts_usage_metrics(text)
        try:
            async with self.http().post(
                self._endpoints.tts_http_for(options.model),
                json=body,
                headers=headers,
                allow_redirects=False,
            ) as resp:
                if not 200 <= resp.status < 300:
                    raise name_the_voice(await http_error(resp, "TTS"), options)
                head = await resp.content.read(_READ_BYTES)  # what arrived first
                content_type = resp.headers.get("Content-Type")
                if error_from_audio_response(content_type, head) is not None:
                    head += await read_bounded(resp, MAX_ERROR_BODY_BYTES - len(head))
                    raise error_from_audio_response(content_type, head) or SmallestError(
                        "the server answered 200 without audio", kind=ErrorKind.PROTOCOL
                    )
                async for chunk in _body(head, resp):
                    pcm = decoder.feed(chunk)
                    if resampler is not None:
                        pcm = resampler.process(pcm)
                    if pcm:
                        yield TTSAudioRawFrame(pcm, self.sample_rate, 1, context_id=context_id)
                tail = decoder.flush() + (resampler.flush() if resampler else b"")
                if tail:
                    yield TTSAudioRawFrame(tail, self.sample_rate, 1, context_id=context_id)
        except SmallestError as exc:
            self._failed_contexts.add(context_id)
            yield error_frame(exc, "Smallest TTS error")
        except (aiohttp.ClientError, TimeoutError) as exc:
            self._failed_contexts.add(context_id)
            error = SmallestError(
                f"TTS request failed: {redact(str(exc))}", kind=ErrorKind.CONNECTION
            )
            yield error_frame(error, "Smallest TTS error")


async def _body(head: bytes, response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    """The body: ``head`` (already read), then the rest as it arrives."""
    if head:
        yield head
    async for chunk in response.content.iter_chunked(_READ_BYTES):
        yield chunk


__all__ = ["SmallestHttpTTSService"]
