"""Model quality on real data against published figures (../shared/data/README.md).

InterpretML's protocol on IBM Telco — StratifiedShuffleSplit(n_splits=3, test_size=0.25,
random_state=1337) — published ROC AUC 0.849 (logistic regression), 0.828 (XGBoost default),
0.824 (random forest). The engine, with its default settings, trains on each 75% through a DuckDB
source and is scored on the untouched 25%.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedShuffleSplit

from engine import Engine, Settings

FEATURES_EXCLUDED = ("customerID", "Churn")


def _split_scores(tmp_path: Path, frame: pd.DataFrame) -> tuple[list[float], float, int]:
    y = (frame["Churn"] == "Yes").to_numpy(dtype=int)
    splitter = StratifiedShuffleSplit(n_splits=3, test_size=0.25, random_state=1337)
    aucs: list[float] = []
    covered = 0
    for i, (train_idx, test_idx) in enumerate(splitter.split(frame, y)):
        csv = tmp_path / f"train_{i}.csv"
        frame.iloc[train_idx].to_csv(csv, index=False)
        with Engine.open(Settings.for_home(tmp_path / f"home_{i}")) as engine:
            source = engine.connect_source(
                "q",
                {
                    "name": "telco",
                    "type": "duckdb",
                    "connection_config": {"files": {"customers": str(csv)}},
                },
            )
            features = [c for c in frame.columns if c not in FEATURES_EXCLUDED]
            asset = engine.create_asset(
                "q",
                {
                    "name": "churn",
                    "data_sources": [{"source_id": source["source_id"], "tables": ["customers"]}],
                    "configuration": {"features": features, "target_variable": "Churn"},
                },
            )
            trained = engine.train("q", asset["asset_id"])
            test = frame.iloc[test_idx]
            scored = engine.score_frame("q", asset["asset_id"], test)
            p = scored["churn_probability"].to_numpy()
            aucs.append(float(roc_auc_score(y[test_idx], p)))
            model, _ = engine.context.models.get(asset["asset_id"], trained["model_version"])
            covered += round(model.interval.coverage(p, y[test_idx]) * len(test_idx))
    return aucs, covered / sum(len(t) for _, t in splitter.split(frame, y)), len(y)


@pytest.mark.slow
def test_default_settings_reach_the_published_auc_and_the_stated_coverage(
    tmp_path: Path, telco_frame: pd.DataFrame
) -> None:
    aucs, coverage, _ = _split_scores(tmp_path, telco_frame)
    print(
        f"ROC AUC per split {np.round(aucs, 4)}, mean {np.mean(aucs):.4f}; interval coverage {coverage:.4f}"
    )
    assert np.mean(aucs) >= 0.84
    assert abs(coverage - 0.90) <= 0.03
