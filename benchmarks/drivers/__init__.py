"""One driver per framework and implementation (ours, official), same scenarios for both.

The Pipecat drivers run the pipeline harness shared with the tests (``shared/harness``).
"""

import sys
from pathlib import Path

_HARNESS = Path(__file__).resolve().parents[2] / "shared" / "harness"
if str(_HARNESS) not in sys.path:
    sys.path.insert(0, str(_HARNESS))
