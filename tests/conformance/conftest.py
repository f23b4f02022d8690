"""This suite's fixtures; its helpers live in ``conformance_kit`` (a name no other suite uses,
so one ``pytest`` run imports every suite's helpers side by side)."""

from conformance_kit import (  # noqa: F401
    driver,
    emu,
    every_log_line,
)
