"""Which new column of a table looks like a missing feature under another name: one whose name
is close to the feature's (difflib), or whose sampled values are the feature's trained
categories; either way it must hold values the feature can read."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

import pandas as pd
import pyarrow as pa

from engine.features.column_types import NATIVE_FAMILY, family_of_arrow, unreadable_values
from engine.features.columns import text

NAME_SIMILARITY = 0.6  # difflib's ratio from which two column names look alike
VALUE_SHARE = 0.8  # share of a column's sampled values that are the feature's trained categories


def find_renames(
    missing: list[Mapping[str, Any]],
    new: list[str],
    present: Mapping[str, pa.DataType],
    sampled: Mapping[str, pd.Series],
) -> dict[str, tuple[str, list[str]]]:
    """Missing feature → (new column that looks like it under another name, the reasons)."""
    found: dict[str, tuple[str, list[str]]] = {}
    free = list(new)
    for feature in missing:
        scored = []
        for candidate in free:
            if not _can_stand_in(feature, present[candidate], sampled.get(candidate)):
                continue
            reasons = []
            similarity = difflib.SequenceMatcher(
                None, feature["name"].lower(), candidate.lower()
            ).ratio()
            if similarity >= NAME_SIMILARITY:
                reasons.append("a similar name")
            share = _category_share(feature, sampled.get(candidate))
            if share >= VALUE_SHARE:
                reasons.append(f"{share:.0%} of its sampled values are trained categories")
            if reasons:
                scored.append((share >= VALUE_SHARE, similarity, candidate, reasons))
        if scored:
            _, _, best, reasons = max(scored)
            found[feature["name"]] = (best, reasons)
            free.remove(best)
    return found


def _can_stand_in(
    feature: Mapping[str, Any], arrow_type: pa.DataType, column: pd.Series | None
) -> bool:
    family = family_of_arrow(arrow_type)
    if family == "other":
        return False
    if feature["kind"] == "categorical" or family in NATIVE_FAMILY.values():
        return True
    return column is not None and not unreadable_values(column, feature["kind"])


def _category_share(feature: Mapping[str, Any], column: pd.Series | None) -> float:
    if column is None or not feature.get("categories"):
        return 0.0
    labels = pd.Series(text(column).to_pylist(), dtype=object).dropna()
    return float(labels.isin(set(feature["categories"])).mean()) if len(labels) else 0.0
