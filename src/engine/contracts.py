"""Data contracts: what a version's training data looked like, and how a table differs from it.

`build_contract` records, per feature, the column's type, its share of missing values, the
trained range of a numeric feature and the categories of a categorical one (the whole training
frame, holdout included). `compare` reads a table's schema and a sample of its rows against a
contract and returns the differences: an `error` when predictions would fail on every row (a
missing or renamed column, a type the feature cannot read), a `warning` when they still score
but on data unlike the training data. Pure: no I/O, no context.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from engine.features.column_types import (
    NATIVE_FAMILY,
    family_of_arrow,
    family_of_series,
    missing_mask,
    type_of_series,
    unreadable_values,
)
from engine.features.columns import MISSING, category_labels, numbers, text
from engine.features.encoder import MAX_CATEGORIES, FeatureEncoder
from engine.renamed_columns import find_renames

CONTRACT_FORMAT = 1
MAX_CONTRACT_CATEGORIES = 500
EXAMPLES = 5

DifferenceKind = Literal[
    "missing_table",
    "missing_column",
    "renamed_column",
    "type_changed",
    "unseen_categories",
    "out_of_range",
    "new_nulls",
]
Severity = Literal["error", "warning"]
_READS_AS = {"numeric": "numbers", "boolean": "yes/no values"}


@dataclass(frozen=True)
class Difference:
    """One way a table differs from a version's training data."""

    column: str | None
    kind: DifferenceKind
    severity: Severity
    message: str
    values: tuple[str, ...] = ()
    suggested_column: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "kind": self.kind,
            "severity": self.severity,
            "message": self.message,
            "values": list(self.values),
            "suggested_column": self.suggested_column,
        }


# building ------------------------------------------------------------------------------------
def build_contract(
    frame: pd.DataFrame,
    encoder: FeatureEncoder,
    table: str,
    source_id: str,
    target: str | None = None,
) -> dict[str, Any]:
    """The data contract of a training frame and the encoder fitted on it (JSON-serialisable)."""
    contract: dict[str, Any] = {
        "format": CONTRACT_FORMAT,
        "source_id": source_id,
        "table": table,
        "rows": len(frame),
        "columns": [str(c) for c in frame.columns],
        "features": [_feature(frame[s.name], s.name, s.kind) for s in encoder.specs_],
        "target": None,
    }
    if target is not None and target in frame.columns:
        column = frame[target]
        contract["target"] = {
            "name": target,
            "type": type_of_series(column),
            "family": family_of_series(column),
        }
    return contract


def _feature(column: pd.Series, name: str, kind: str) -> dict[str, Any]:
    missing = missing_mask(column)
    feature: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "type": type_of_series(column),
        "family": family_of_series(column),
        "null_fraction": round(float(missing.mean()), 6) if len(column) else 0.0,
    }
    if kind == "categorical":
        counts = category_labels(column).value_counts()
        seen = [str(c) for c in counts.index if c != MISSING]
        feature["categories"] = seen[:MAX_CONTRACT_CATEGORIES]
        feature["categories_truncated"] = len(seen) > MAX_CONTRACT_CATEGORIES
        return feature
    feature["unreadable_values"] = len(unreadable_values(column, kind))
    if kind == "numeric":
        values = numbers(column)
        finite = values[np.isfinite(values)]
        feature["minimum"] = float(finite.min()) if len(finite) else None
        feature["maximum"] = float(finite.max()) if len(finite) else None
    return feature


def contract_from_feature_schema(
    features: Sequence[Mapping[str, Any]], table: str, source_id: str
) -> dict[str, Any]:
    """A partial contract for a version trained before contracts were stored, from the feature
    schema its manifest always held: names, kinds and categories. Its ranges are left out: they
    cover the rows the encoder was fitted on, not the holdout, so a sample of the same table
    would fall outside them."""
    derived = []
    for spec in features:
        feature: dict[str, Any] = {"name": spec["name"], "kind": spec["kind"]}
        if spec["kind"] == "categorical":
            categories = [c for c in spec.get("categories", []) if c != MISSING]
            feature["categories"] = categories
            # The encoder kept its most frequent categories only; a full list may have been cut.
            feature["categories_truncated"] = len(spec.get("categories", [])) >= MAX_CATEGORIES
        else:
            feature["unreadable_values"] = spec.get("coerced_unparseable", 0)
        derived.append(feature)
    return {
        "format": CONTRACT_FORMAT,
        "source_id": source_id,
        "table": table,
        "rows": None,
        "columns": None,
        "features": derived,
        "target": None,
    }


# comparing -----------------------------------------------------------------------------------
def compare(
    contract: Mapping[str, Any], schema: pa.Schema, sample: pa.Table | None
) -> list[Difference]:
    """How a table (its schema, and optionally a sample of its rows) differs from a contract."""
    present = {name: schema.field(name).type for name in schema.names}
    features = list(contract["features"])
    known = _known_columns(contract)
    new = [name for name in schema.names if name not in known]
    sampled = _sampled(sample)
    missing = [f for f in features if f["name"] not in present]
    renames = find_renames(missing, new, present, sampled)
    out: list[Difference] = []
    for feature in features:
        name = feature["name"]
        if name in renames:
            out.append(_renamed(feature, *renames[name]))
        elif name not in present:
            out.append(
                Difference(
                    name,
                    "missing_column",
                    "error",
                    f"'{name}' is not in '{contract['table']}'; every prediction needs it",
                )
            )
        else:
            out += _column_differences(feature, present[name], sampled.get(name))
    return out


def columns_to_sample(contract: Mapping[str, Any], names: Sequence[str]) -> list[str]:
    """The columns of a table `compare` reads values of: the features, and the columns training
    never saw (a feature may be among them under a new name)."""
    features = {f["name"] for f in contract["features"]}
    known = _known_columns(contract)
    return [n for n in names if n in features or n not in known]


def _known_columns(contract: Mapping[str, Any]) -> set[str]:
    target = (contract.get("target") or {}).get("name")
    features = {f["name"] for f in contract["features"]}
    return set(contract.get("columns") or ()) | features | ({target} if target else set())


def _sampled(sample: pa.Table | None) -> dict[str, pd.Series]:
    if sample is None:
        return {}
    return {name: sample.column(name).to_pandas() for name in sample.column_names}


def _column_differences(
    feature: Mapping[str, Any], arrow_type: pa.DataType, column: pd.Series | None
) -> list[Difference]:
    if family_of_arrow(arrow_type) == "other":  # nested or binary: no feature reads these
        return [
            Difference(
                feature["name"],
                "type_changed",
                "error",
                f"'{feature['name']}' is now {arrow_type} (was {feature.get('type', 'text')}), "
                "which the feature cannot read",
            )
        ]
    out: list[Difference] = []
    if feature["kind"] == "categorical":
        changed = _type_change(feature, arrow_type)
        if changed:
            out.append(
                Difference(
                    feature["name"],
                    "type_changed",
                    "warning",
                    f"{changed}; its values are read as categories by their text",
                )
            )
    else:
        found = _readability(feature, arrow_type, column)
        if found is not None:
            out.append(found)
    if column is None or not len(column):
        return out
    missing = missing_mask(column)
    if feature.get("null_fraction") == 0.0 and missing.any():
        out.append(
            Difference(
                feature["name"],
                "new_nulls",
                "warning",
                f"{int(missing.sum())} of {len(column)} sampled rows have no value for "
                f"'{feature['name']}', which training never lacked",
            )
        )
    if feature["kind"] == "categorical":
        out += _unseen(feature, column)
    elif feature["kind"] == "numeric":
        out += _out_of_range(feature, column)
    return out


def _type_change(feature: Mapping[str, Any], arrow_type: pa.DataType) -> str | None:
    """'X is now T (was U)' when the column's type family changed in a way worth telling."""
    trained, now = feature.get("family"), family_of_arrow(arrow_type)
    if trained is None or trained == now or "null" in (trained, now):
        return None
    if now == NATIVE_FAMILY.get(feature["kind"]):
        return None
    return f"'{feature['name']}' is now {arrow_type} (was {feature.get('type')})"


def _readability(
    feature: Mapping[str, Any], arrow_type: pa.DataType, column: pd.Series | None
) -> Difference | None:
    """A numeric or yes/no feature whose column changed type, or now holds values that do not
    read as the feature: an error when no sampled value reads, a warning otherwise."""
    name, kind = feature["name"], feature["kind"]
    changed = _type_change(feature, arrow_type)
    reads_as = _READS_AS[kind]
    if column is None or not (~missing_mask(column)).any():
        if changed is None:
            return None
        readable = family_of_arrow(arrow_type) in NATIVE_FAMILY.values()
        return Difference(
            name,
            "type_changed",
            "warning" if readable else "error",
            f"{changed}; values that do not read as {reads_as} will fail",
        )
    bad = unreadable_values(column, kind)
    present = int((~missing_mask(column)).sum())
    if not bad:
        if changed is None:
            return None
        return Difference(
            name,
            "type_changed",
            "warning",
            f"{changed}; the {present} sampled values still read as {reads_as}",
        )
    if changed is None and feature.get("unreadable_values", 0):
        return None  # training had such values too
    examples = _examples(bad)
    lead = changed + "; " if changed else ""
    return Difference(
        name,
        "type_changed",
        "error" if len(bad) == present else "warning",
        f"{lead}{len(bad)} of {len(column)} sampled rows have '{name}' values that do not read "
        f"as {reads_as} ({_quoted(examples)}); predictions fail for them",
        examples,
    )


def _unseen(feature: Mapping[str, Any], column: pd.Series) -> list[Difference]:
    if feature.get("categories_truncated") or "categories" not in feature:
        return []
    labels = pd.Series(text(column).to_pylist(), dtype=object).dropna()
    unseen = labels[~labels.isin(set(feature["categories"]))]
    if unseen.empty:
        return []
    examples = tuple(str(v) for v in unseen.value_counts().index[:EXAMPLES])
    return [
        Difference(
            feature["name"],
            "unseen_categories",
            "warning",
            f"{len(unseen)} of {len(column)} sampled rows have {feature['name']} values never "
            f"seen in training: {_quoted(examples)}",
            examples,
        )
    ]


def _out_of_range(feature: Mapping[str, Any], column: pd.Series) -> list[Difference]:
    low, high = feature.get("minimum"), feature.get("maximum")
    if low is None or high is None:
        return []
    values = numbers(column)
    outside = values[(values < low) | (values > high)]
    if not len(outside):
        return []
    ordered = sorted(set(outside.tolist()), key=lambda v: -abs(v - (low + high) / 2))
    examples = tuple(number_text(v) for v in ordered[:EXAMPLES])
    return [
        Difference(
            feature["name"],
            "out_of_range",
            "warning",
            f"{len(outside)} of {len(column)} sampled rows have '{feature['name']}' outside the "
            f"trained range {number_text(low)} to {number_text(high)} (e.g. {', '.join(examples)})",
            examples,
        )
    ]


def _renamed(feature: Mapping[str, Any], candidate: str, reasons: list[str]) -> Difference:
    return Difference(
        feature["name"],
        "renamed_column",
        "error",
        f"'{feature['name']}' is missing; '{candidate}' looks like it under a new name "
        f"({' and '.join(reasons)})",
        suggested_column=candidate,
    )


def _examples(values: list[str]) -> tuple[str, ...]:
    counts = pd.Series(values, dtype=object).value_counts()
    return tuple(str(v) for v in counts.index[:EXAMPLES])


def _quoted(values: Sequence[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def number_text(value: float) -> str:
    """72.0 → '72', 116.25 → '116.25': figures as people write them."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:.6g}"
