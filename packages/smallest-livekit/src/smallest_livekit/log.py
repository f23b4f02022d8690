"""The package logger."""

import logging

logger = logging.getLogger("smallest_livekit")
