"""``stream()`` of :class:`~.tts.TTS`: one segment on a pooled WebSocket (the turn itself
is driven by :func:`~._tts_turn.run_turn`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from livekit.agents import APIConnectOptions, tts, utils

from smallest_core import TTSOptions

from ._tts_turn import run_turn

if TYPE_CHECKING:
    from .tts import TTS

NUM_CHANNELS = 1


class SynthesizeStream(tts.SynthesizeStream):
    """One segment on a pooled WebSocket; every token is sent as it arrives."""

    def __init__(self, *, tts: TTS, conn_options: APIConnectOptions) -> None:
        super().__init__(tts=tts, conn_options=conn_options)
        self._tts: TTS = tts
        self._opts = tts.ws_options()
        self.first_audio_received_at: float | None = None
        """``perf_counter()`` when the socket received this segment's first audio."""

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        segment_id = utils.shortuuid()
        output_emitter.initialize(
            request_id=segment_id,
            sample_rate=self._opts.sample_rate,
            num_channels=NUM_CHANNELS,
            mime_type="audio/pcm",
            stream=True,
        )
        output_emitter.start_segment(segment_id=segment_id)
        await run_turn(self, output_emitter)
        output_emitter.end_segment()

    # hooks used by the turn driver ------------------------------------------
    @property
    def owner(self) -> TTS:
        return self._tts

    @property
    def opts(self) -> TTSOptions:
        return self._opts

    @property
    def connect_options(self) -> APIConnectOptions:
        return self._conn_options

    def note_connection(self, reused: bool) -> None:
        self._acquire_time = self._tts._pool.last_acquire_time
        self._connection_reused = reused

    def mark_started(self) -> None:
        self._mark_started()

    def input_channel(self) -> Any:
        return self._input_ch

    def is_flush(self, item: object) -> bool:
        return isinstance(item, self._FlushSentinel)
