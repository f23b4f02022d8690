"""This suite's fixtures; its helpers live in ``livekit_kit`` (a name no other suite uses,
so one ``pytest`` run imports every suite's helpers side by side)."""

from livekit_kit import (  # noqa: F401
    emu,
)
