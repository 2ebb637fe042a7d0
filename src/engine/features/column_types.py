"""What kind of values a column holds, read the same way from a training frame (pandas) and from
a table's schema (Arrow): the type's family, which values are missing, which cannot be read as
their feature. Families, not exact types, are compared: int64 and double are both numbers."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from engine.features import columns

Family = Literal["numeric", "boolean", "string", "temporal", "null", "other"]
NATIVE_FAMILY = {"numeric": "numeric", "boolean": "boolean"}
"""The family each feature kind reads without converting text."""
_ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError)


def family_of_arrow(arrow_type: pa.DataType) -> Family:
    if pa.types.is_dictionary(arrow_type):
        return family_of_arrow(arrow_type.value_type)
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if (
        pa.types.is_integer(arrow_type)
        or pa.types.is_floating(arrow_type)
        or pa.types.is_decimal(arrow_type)
    ):
        return "numeric"
    if (
        pa.types.is_string(arrow_type)
        or pa.types.is_large_string(arrow_type)
        or pa.types.is_string_view(arrow_type)
    ):
        return "string"
    if pa.types.is_temporal(arrow_type):
        return "temporal"
    if pa.types.is_null(arrow_type):
        return "null"
    return "other"


def _arrow_type(column: pd.Series) -> pa.DataType | None:
    try:
        return pa.array(column, from_pandas=True).type
    except _ARROW_ERRORS:
        return None  # mixed Python objects: no single Arrow type


def type_of_series(column: pd.Series) -> str:
    arrow_type = _arrow_type(column)
    return str(arrow_type) if arrow_type is not None else str(column.dtype)


def family_of_series(column: pd.Series) -> Family:
    arrow_type = _arrow_type(column)
    if arrow_type is not None:
        return family_of_arrow(arrow_type)
    if pd.api.types.is_bool_dtype(column):
        return "boolean"
    if pd.api.types.is_numeric_dtype(column):
        return "numeric"
    return "string"


def missing_mask(column: pd.Series) -> np.ndarray:
    """Rows with no value: null, NaN, or text that is blank once trimmed (as the encoder sees it)."""
    if not (pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)):
        return np.asarray(column.isna().to_numpy(), dtype=bool)
    try:
        nulls = columns.text(column).is_null()
    except _ARROW_ERRORS:
        return np.asarray(column.isna().to_numpy(), dtype=bool)
    return np.asarray(nulls.to_numpy(zero_copy_only=False), dtype=bool)


def unreadable_values(column: pd.Series, kind: str) -> list[str]:
    """The values, one per row, that a numeric or yes/no feature cannot read (trimmed text)."""
    if kind == "categorical":
        return []
    try:
        bad = columns.unreadable(column, kind)
    except _ARROW_ERRORS:
        bad = ~missing_mask(column)  # values Arrow cannot even turn into text
    return [str(v).strip() for v in column[bad].tolist()]
