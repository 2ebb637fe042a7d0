"""Training: from a validated frame to a fitted, calibrated, measured model.

`engine.training.classification` holds the trainer; this package's root stays light so that
the CLI can name the steps without importing scikit-learn."""

from engine.training.progress import STEPS, Progress

__all__ = ["STEPS", "Progress"]
