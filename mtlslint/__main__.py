"""``python -m mtlslint``."""

from mtlslint.cli import run

run()
