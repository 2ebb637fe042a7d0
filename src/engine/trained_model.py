"""A trained classifier with everything needed to serve it: the feature encoder, the fitted
algorithm, the interval calibration and the target's vocabulary. Saved as a version's payload."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.algorithms import ALGORITHMS, Classifier
from engine.features import FeatureEncoder
from engine.intervals import CohortInterval

FEATURES_FILE = "features.json"
CALIBRATION_FILE = "calibration.json"


@dataclass
class TrainedModel:
    algorithm: str
    classifier: Classifier
    encoder: FeatureEncoder
    interval: CohortInterval
    target: str
    positive_label: str
    extras: dict[str, Any] = field(default_factory=dict)

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Probabilities and their interval bounds for an encoded matrix."""
        p = self.classifier.predict_proba(x)
        lower, upper = self.interval.bounds(p)
        return p, lower, upper

    def predict_explained(
        self, x: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Probabilities, interval bounds and per-feature contributions in one pass where the
        algorithm can give both from one computation."""
        both = getattr(self.classifier, "proba_and_contributions", None)
        if both is not None:
            p, per_column = both(x)
        else:
            p, per_column = self.classifier.predict_proba(x), self.classifier.contributions(x)
        lower, upper = self.interval.bounds(p)
        return p, lower, upper, self._per_feature(per_column)

    def feature_contributions(self, x: np.ndarray) -> np.ndarray:
        """Signed contributions per feature (columns summed back into their feature)."""
        return self._per_feature(self.classifier.contributions(x))

    def _per_feature(self, contributions: np.ndarray) -> np.ndarray:
        return np.asarray(contributions[:, :-1] @ self.encoder.group_matrix_)

    def write_payload(self, directory: Path) -> None:
        self.classifier.save(directory)
        (directory / FEATURES_FILE).write_text(json.dumps(self.encoder.to_dict(), indent=2))
        calibration = {
            "interval": self.interval.to_dict(),
            "target": self.target,
            "positive_label": self.positive_label,
        }
        (directory / CALIBRATION_FILE).write_text(json.dumps(calibration, indent=2))

    @classmethod
    def load(cls, directory: Path, manifest: dict[str, Any]) -> TrainedModel:
        """Load a payload whose checksums the artifact store has already verified."""
        algorithm = manifest["algorithm"]
        classifier_cls: Any = ALGORITHMS.load(algorithm)
        classifier: Classifier = classifier_cls.load(directory, manifest["params"])
        encoder = FeatureEncoder.from_dict(json.loads((directory / FEATURES_FILE).read_text()))
        calibration = json.loads((directory / CALIBRATION_FILE).read_text())
        return cls(
            algorithm=algorithm,
            classifier=classifier,
            encoder=encoder,
            interval=CohortInterval.from_dict(calibration["interval"]),
            target=calibration["target"],
            positive_label=calibration["positive_label"],
        )
