"""`python -m engine …`: a thin shell over the Python API."""

from __future__ import annotations

import sys


def main() -> None:
    from engine.cli.app import run

    sys.exit(run(sys.argv[1:]))


__all__ = ["main"]
