"""The five steps of a training run, and the callback that hears about them."""

from __future__ import annotations

from typing import Protocol

STEPS = ("data_preparation", "feature_engineering", "training", "validation", "deployment")


class Progress(Protocol):
    def __call__(self, step: str, done: float, message: str) -> None:
        """`done` is the completed share (0–1) of `step`."""
        ...


def silent(step: str, done: float, message: str) -> None:
    return None
