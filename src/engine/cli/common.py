"""What every command shares: the company option, JSON output, the engine they open."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console

if TYPE_CHECKING:
    from engine.api import Engine

err = Console(stderr=True)
company_option = click.option(
    "--company",
    envvar="ENGINE_COMPANY",
    default="default",
    show_default=True,
    help="Company (tenant) to act for.",
)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


@contextmanager
def open_engine() -> Iterator[Engine]:
    from engine.api import Engine  # heavy (pandas, scikit-learn): only for commands that need it

    engine = Engine.open()
    try:
        yield engine
    finally:
        engine.close()
