"""``python -m mtlslint``."""

from mtlslint.cli import main

main()
