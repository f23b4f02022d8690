"""Base-class hooks for contexts that failed with an error already reported."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipecat.services.tts_service import TTSService as _Base
else:
    _Base = object


class ReportedFailures(_Base):
    """A failed context reports its own error once; its text is not marked as spoken,
    it reports no second "no audio" error and never counts toward writing the service off."""

    _failed_contexts: set[str]

    async def _apply_force_complete(self, context_id: str) -> None:
        if context_id in self._failed_contexts:
            for slot in self._aggregated_frame_sequencer._slots:
                if slot.context_id == context_id and slot.spoken:
                    slot.complete = True
        await super()._apply_force_complete(context_id)

    async def _record_context_audio_outcome(self, context_id: str, received_audio: bool) -> None:
        if context_id in self._failed_contexts:
            self._failed_contexts.discard(context_id)
            return
        await super()._record_context_audio_outcome(context_id, received_audio)

    async def _push_spoken_text(
        self, src_frame: Any, text: str, context_id: str, append_to_context: bool
    ) -> None:
        if context_id in self._failed_contexts and self._push_text_frames:
            # Nothing was spoken: release the slot without a TTSTextFrame.
            for frame in self._aggregated_frame_sequencer.complete_spoken_slot():
                await self.push_frame(frame)
            return
        await super()._push_spoken_text(src_frame, text, context_id, append_to_context)
