"""Synthetic daily sales by product category: trend, weekly and yearly seasonality, a promotion
regressor with a known effect, and noise; small enough to train in seconds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

CATEGORIES = ("books", "garden", "toys")
PROMO_EFFECT = 25.0


def sales_frame(
    days: int = 400, categories: tuple[str, ...] = CATEGORIES, seed: int = 0
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2023-01-01", periods=days, freq="D")
    t = np.arange(days)
    frames = []
    for i, category in enumerate(categories):
        level = 100.0 * (i + 1)
        weekly = 0.15 * level * np.sin(2 * np.pi * t / 7 + i)
        yearly = 0.1 * level * np.sin(2 * np.pi * t / 365.25)
        promo = (rng.random(days) < 0.15).astype(int)
        noise = rng.normal(0, 0.03 * level, days)
        revenue = level + 0.05 * t * (i + 1) + weekly + yearly + PROMO_EFFECT * promo + noise
        frames.append(
            pd.DataFrame(
                {
                    "date": dates.strftime("%Y-%m-%d"),
                    "product_category": category,
                    "revenue": np.round(revenue, 2),
                    "promo": promo,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def forecast_asset_body(
    source_id: str, table: str = "sales", **configuration: Any
) -> dict[str, Any]:
    return {
        "name": "Revenue forecast",
        "category": "forecasting",
        "data_sources": [{"source_id": source_id, "tables": [table]}],
        "configuration": {
            "model_type": "time_series",
            "algorithms": ["arima", "prophet"],
            "date_column": "date",
            "target_variable": "revenue",
            "series_keys": ["product_category"],
            "prediction_horizon": 14,
            "cross_validation_folds": 3,
            **configuration,
        },
        "validation_rules": {
            "min_data_points": 100,
            "required_columns": ["date", "revenue", "product_category"],
            "date_range_validation": True,
        },
    }


def write_sales_csv(directory: Path, frame: pd.DataFrame | None = None) -> Path:
    path = directory / "sales.csv"
    (sales_frame() if frame is None else frame).to_csv(path, index=False)
    return path
