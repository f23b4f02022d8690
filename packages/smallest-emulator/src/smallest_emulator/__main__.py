"""``python -m smallest_emulator``."""

from smallest_emulator.cli import main

main()
