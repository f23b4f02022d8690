"""Nothing empty is written: the WAV and the picture need a turn that produced audio."""

from __future__ import annotations

from pathlib import Path

import pytest
from turn import Turn


def test_no_picture_of_a_turn_without_audio(tmp_path: Path) -> None:
    from timeline_plot import draw

    path = tmp_path / "empty.png"
    with pytest.raises(ValueError, match="no audio"):
        draw(Turn(framework="Pipecat", reply="Hello there."), path)
    assert not path.exists()


def test_no_wav_of_a_turn_without_audio(tmp_path: Path) -> None:
    import run

    path = tmp_path / "empty.wav"
    with pytest.raises(ValueError, match="no audio"):
        run.write_wav(Turn(framework="Pipecat", reply="Hello there."), path)
    assert not path.exists()
