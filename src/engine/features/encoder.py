"""The fitted map from raw feature values to model columns, and back for explanations.

Three kinds of feature: `numeric` (missing → training median; numbers stored as text are coerced,
with a count of what did not parse), `boolean` (yes/no, true/false, 1/0 → 1.0/0.0) and
`categorical` (one column per category seen in training; a missing value is its own category;
an unseen one sets no column). Every model column belongs to exactly one feature (`groups`), so
signed contributions add back up per feature exactly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from engine.errors import FieldProblem, ValidationError
from engine.features import columns
from engine.features.columns import FALSE_WORDS as _FALSE
from engine.features.columns import MISSING
from engine.features.columns import TRUE_WORDS as _TRUE

Kind = Literal["numeric", "boolean", "categorical"]
TEXT_NUMBER_SHARE = 0.95  # a text column is numeric when this share of its values parse
MAX_CATEGORIES = 200


@dataclass
class FeatureSpec:
    name: str
    kind: Kind
    median: float = 0.0
    minimum: float | None = None
    maximum: float | None = None
    categories: list[str] = field(default_factory=list)
    coerced_unparseable: int = 0


@dataclass
class CoercionReport:
    """A numeric feature stored as text: blanks became missing, unparseable values missing too."""

    feature: str
    blank_values: int
    unparseable_values: int
    examples: list[str]

    def describe(self) -> str:
        text = f"'{self.feature}' is stored as text and was read as numbers"
        parts = []
        if self.blank_values:
            parts.append(f"{self.blank_values} blank values treated as missing")
        if self.unparseable_values:
            parts.append(
                f"{self.unparseable_values} unparseable values treated as missing (e.g. {self.examples})"
            )
        return text + (": " + "; ".join(parts) if parts else "")


def _is_blank(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, float) and math.isnan(value))
        or (isinstance(value, str) and not value.strip())
    )


def _to_bool(value: Any) -> float | None:
    if _is_blank(value):
        return None
    if isinstance(value, bool | np.bool_):
        return float(value)
    if isinstance(value, int | float | np.number) and value in (0, 1):
        return float(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return 1.0
    if text in _FALSE:
        return 0.0
    raise ValueError("expected a yes/no (true/false) value")


def _to_number(value: Any) -> float | None:
    if _is_blank(value):
        return None
    if isinstance(value, bool | np.bool_):
        raise ValueError("expected a number, got a boolean")
    if isinstance(value, int | float | np.number):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise ValueError(f"expected a number, got '{value}'") from None
    raise ValueError(f"expected a number, got {type(value).__name__}")


def _category(value: Any) -> str:
    if _is_blank(value):
        return MISSING
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        raise ValueError("expected a single category value, got a structure")
    text = str(value).strip()
    return text or MISSING


def infer_kind(column: pd.Series) -> Kind:
    if pd.api.types.is_bool_dtype(column):
        return "boolean"
    if pd.api.types.is_numeric_dtype(column):
        return "numeric"
    values = column.dropna().astype(str).str.strip()
    values = values[values != ""]
    lowered = values.str.lower()
    if len(values) and set(lowered.unique()) <= _TRUE | _FALSE and lowered.nunique() <= 2:
        return "boolean"
    parsed = pd.to_numeric(values, errors="coerce")
    if len(values) and parsed.notna().mean() >= TEXT_NUMBER_SHARE:
        return "numeric"
    return "categorical"


def unparseable_numbers(column: pd.Series) -> tuple[int, list[str]]:
    """How many non-blank text values of a column do not parse as numbers, with examples."""
    text = column.astype("string").str.strip()
    parsed = pd.to_numeric(text, errors="coerce")
    bad = parsed.isna() & text.notna() & (text != "")
    return int(bad.sum()), text[bad].head(3).tolist()


class FeatureEncoder:
    """Fit on a training frame; then encode frames or request records into a float matrix."""

    def __init__(self, kinds: Mapping[str, Kind] | None = None) -> None:
        self.kinds = dict(kinds or {})

    # fitting ---------------------------------------------------------------------------------
    def fit(self, frame: pd.DataFrame, features: Sequence[str]) -> FeatureEncoder:
        self.specs_: list[FeatureSpec] = []
        self.coercions_: list[CoercionReport] = []
        for name in features:
            column = frame[name]
            kind = self.kinds.get(name) or infer_kind(column)
            self.specs_.append(self._fit_one(name, kind, column))
        self._index()
        return self

    def _fit_one(self, name: str, kind: Kind, column: pd.Series) -> FeatureSpec:
        if kind == "categorical":
            counts = columns.category_labels(column).value_counts()
            return FeatureSpec(
                name, kind, categories=[str(c) for c in counts.index[:MAX_CATEGORIES]]
            )
        values = columns.booleans(column) if kind == "boolean" else columns.numbers(column)
        spec = FeatureSpec(name, kind)
        if kind == "numeric" and not pd.api.types.is_numeric_dtype(column):
            bad, examples = unparseable_numbers(column)
            text = column.astype("string").str.strip()
            blanks = int((text.isna() | (text == "")).sum())
            self.coercions_.append(CoercionReport(name, blanks, bad, examples))
            spec.coerced_unparseable = bad
        finite = values[~np.isnan(values)]
        if len(finite):
            spec.median = float(np.median(finite))
            spec.minimum, spec.maximum = float(finite.min()), float(finite.max())
        return spec

    def _index(self) -> None:
        self.columns_: list[str] = []
        groups: list[int] = []
        self._offsets: list[int] = []
        self._category_index: list[dict[str, int]] = []
        for i, spec in enumerate(self.specs_):
            self._offsets.append(len(self.columns_))
            if spec.kind == "categorical":
                self._category_index.append({c: j for j, c in enumerate(spec.categories)})
                self.columns_.extend(f"{spec.name}={c}" for c in spec.categories)
                groups.extend([i] * len(spec.categories))
            else:
                self._category_index.append({})
                self.columns_.append(spec.name)
                groups.append(i)
        self.groups_ = np.asarray(groups, dtype=np.intp)
        self.group_matrix_ = np.zeros((len(groups), len(self.specs_)))
        self.group_matrix_[np.arange(len(groups)), self.groups_] = 1.0
        self._category_arrays = [pa.array(s.categories, pa.string()) for s in self.specs_]
        self.feature_names_ = [s.name for s in self.specs_]

    # encoding --------------------------------------------------------------------------------
    def encode_frame(self, frame: pd.DataFrame) -> np.ndarray:
        """Vectorized encoding of a whole frame (training, batch scoring)."""
        # Column-major: every write below fills one column, which is then contiguous in memory.
        out = np.zeros((len(frame), len(self.columns_)), dtype=np.float64, order="F")
        for spec, offset, categories in zip(
            self.specs_, self._offsets, self._category_arrays, strict=True
        ):
            column = frame[spec.name]
            if spec.kind == "categorical":
                codes = columns.category_codes(column, categories)
                rows = np.flatnonzero(codes >= 0)
                out[rows, offset + codes[rows]] = 1.0
                continue
            values = columns.booleans(column) if spec.kind == "boolean" else columns.numbers(column)
            out[:, offset] = np.where(np.isnan(values), spec.median, values)
        return out

    def unreadable_rows(self, frame: pd.DataFrame) -> dict[int, list[FieldProblem]]:
        """Positions of rows with a value their feature cannot read, and what is wrong."""
        problems: dict[int, list[FieldProblem]] = {}
        for spec in self.specs_:
            bad = columns.unreadable(frame[spec.name], spec.kind)
            expected = "a number" if spec.kind == "numeric" else "a yes/no value"
            for row in np.flatnonzero(bad):
                value = frame[spec.name].iloc[row]
                problems.setdefault(int(row), []).append(
                    FieldProblem(spec.name, f"expected {expected}, got '{value}'")
                )
        return problems

    def encode_record(self, record: Mapping[str, Any], row: np.ndarray) -> list[FieldProblem]:
        """Fill `row` (zeros, length len(columns_)) from one flat record; return problems."""
        problems: list[FieldProblem] = []
        for spec, offset, index in zip(
            self.specs_, self._offsets, self._category_index, strict=True
        ):
            value = record.get(spec.name)
            try:
                if spec.kind == "categorical":
                    position = index.get(_category(value))
                    if position is not None:
                        row[offset + position] = 1.0
                    continue
                number = _to_bool(value) if spec.kind == "boolean" else _to_number(value)
            except ValueError as exc:
                problems.append(FieldProblem(spec.name, str(exc)))
                continue
            row[offset] = spec.median if number is None or math.isnan(number) else number
        return problems

    def encode_records(
        self, records: Sequence[Mapping[str, Any]]
    ) -> tuple[np.ndarray, list[list[FieldProblem]]]:
        matrix = np.zeros((len(records), len(self.columns_)), dtype=np.float64)
        problems = [self.encode_record(r, matrix[i]) for i, r in enumerate(records)]
        return matrix, problems

    # persistence -----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"features": [asdict(s) for s in self.specs_]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureEncoder:
        encoder = cls()
        encoder.specs_ = [FeatureSpec(**s) for s in data["features"]]
        encoder.coercions_ = []
        encoder._index()
        return encoder

    def spec(self, name: str) -> FeatureSpec:
        for s in self.specs_:
            if s.name == name:
                return s
        raise KeyError(name)


def encode_target(column: pd.Series, field_name: str) -> tuple[np.ndarray, str]:
    """Binary target → 0/1 and the label of the positive class."""
    values = column.dropna()
    if pd.api.types.is_bool_dtype(values):
        return column.fillna(False).astype(int).to_numpy(), "true"
    labels = sorted({str(v).strip() for v in values})
    lowered = {label.lower() for label in labels}
    if lowered <= _TRUE | _FALSE and len(lowered) == 2:
        return columns.booleans(column).astype(int), "true"
    if len(labels) != 2:
        raise ValidationError.for_field(
            field_name,
            f"a binary target needs exactly 2 classes, found {len(labels)}: {labels[:5]}",
        )
    positive = labels[1]
    return (column.astype(str).str.strip() == positive).astype(int).to_numpy(), positive
