"""This suite's fixtures; its helpers live in ``videosdk_kit`` (a name no other suite uses,
so one ``pytest`` run imports every suite's helpers side by side)."""

from videosdk_kit import (  # noqa: F401
    _reset_audio_format,
    emu,
)
