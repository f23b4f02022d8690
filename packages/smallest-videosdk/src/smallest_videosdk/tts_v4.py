"""Lightning v4 text-to-speech for VideoSDK agents: :class:`SmallestAITTSV4`."""

from __future__ import annotations

import dataclasses
from typing import Any

import aiohttp

from smallest_core import LightningV4Options
from smallest_videosdk._common import Account
from smallest_videosdk._playback import TRACK_SAMPLE_RATE
from smallest_videosdk._tts_base import TextInput, as_stream
from smallest_videosdk._v4_turn import V4Turn, V4Turns

MODEL = "lightning-v4"


class SmallestAITTSV4(V4Turns):
    """Smallest AI Lightning v4 TTS for VideoSDK agent pipelines (beta, enabled per account).

    One ``WS /waves/v1/lightning-v4/live`` session is kept across turns. The text of a
    turn is cut into sentences as it arrives and each sentence is spoken as one v4 turn
    (the server speaks them in order). :meth:`interrupt` sends the protocol's
    ``interrupt`` on the same session: the server stops, and audio still in flight for
    the interrupted sentences is dropped, never played in the next turn.
    :meth:`add_user_turn` gives the session the caller's words and audio, which
    condition how later replies sound. English only; no word timestamps.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        voice_id: str | None = None,
        language: str = "en",
        sample_rate: int = TRACK_SAMPLE_RATE,
        speed: float = 1.0,
        content_filter: str | None = None,
        timeout: float = 30.0,
        http_session: aiohttp.ClientSession | None = None,
    ) -> None:
        given = {"voice_id": voice_id} if voice_id is not None else {}
        options = LightningV4Options(
            language=language,
            sample_rate=sample_rate,
            speed=speed,
            content_filter=content_filter,
            **given,
        )
        super().__init__(options, Account.resolve(api_key, base_url), timeout, http_session)

    @property
    def model(self) -> str:
        return MODEL

    async def synthesize(self, text: TextInput, voice_id: str | None = None, **kwargs: Any) -> None:
        """Speak ``text`` (a string, or tokens and ``FlushMarker``s) on the audio track.

        Returns once all of the turn's audio has been pushed to the track, or promptly
        after :meth:`interrupt`. A server error is emitted as ``"error"`` and raised as
        :class:`~smallest_core.SmallestError`. A ``voice_id`` other than the session's
        opens a session for that voice (v4 fixes the voice per session).
        """
        if not self._ready_for(text):
            return
        options = self._options
        if voice_id and voice_id != options.voice_id:
            options = dataclasses.replace(options, voice_id=voice_id)
        turn = V4Turn(options=options)
        await self._run(turn, self._stream_turn(turn, as_stream(text)))

    async def interrupt(self) -> None:
        """Barge-in: the server stops this turn's sentences on the same session, and the
        track is cleared."""
        turn = self._turn
        if turn is not None:
            turn.interrupted = True
            sock = turn.socket
            if sock is not None and sock.usable:
                sock.interrupt()
                await sock.send_pending()
            turn.queue.put_nowait(None)
        track = self.audio_track
        if track is not None and hasattr(track, "interrupt"):
            track.interrupt()

    async def add_user_turn(self, text: str, pcm: bytes, sample_rate: int = 16000) -> None:
        """Give the session the caller's turn: what they said (``text``) and how
        (``pcm``: int16 mono at ``sample_rate``). Later replies are conditioned on it.

        The VideoSDK pipeline hands a TTS only the reply text: wire it with
        ``SmallestAISTT.on_user_turn(tts.add_user_turn)``, or call it from the agent.
        ``ValueError`` without words or audio.
        """
        self._check_open()
        sock = await self._live(self._options)
        sock.add_user_turn(text, pcm, sample_rate)
        await sock.send_pending()
