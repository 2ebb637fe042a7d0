"""Training: from a validated frame to a fitted, calibrated, measured model."""

from engine.training.classification import TrainingOutcome, train_classifier
from engine.training.progress import STEPS, Progress

__all__ = ["STEPS", "Progress", "TrainingOutcome", "train_classifier"]
