"""Column conversions for whole frames. Text columns are dictionary-encoded once (one hash pass
in Arrow), then trimmed, lowered, parsed or looked up on their distinct values only: pandas'
string methods cost ~10 ms per 100k rows and column, this about a tenth of that, and batch
scoring runs it on every column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

MISSING = "__missing__"
TRUE_WORDS = frozenset({"true", "yes", "y", "1", "t"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "f"})
_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_TRUE_SET = pa.array(sorted(TRUE_WORDS))
_FALSE_SET = pa.array(sorted(FALSE_WORDS))


def _distinct_text(column: pd.Series) -> tuple[pa.Array, np.ndarray]:
    """(distinct values as trimmed strings with blanks as null, each row's index into them)."""
    if pd.api.types.is_bool_dtype(column):
        values = pa.array(np.where(column.to_numpy(dtype=bool), "true", "false"), pa.string())
    else:
        values = pa.array(column, from_pandas=True)
        if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
            values = pc.cast(values, pa.string())
    encoded = pc.dictionary_encode(values, null_encoding="encode")
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    trimmed = pc.utf8_trim_whitespace(encoded.dictionary)
    distinct = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)
    indices = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.intp)
    return distinct, indices


def text(column: pd.Series) -> pa.Array:
    """The column as trimmed strings; blanks and missing values are null."""
    distinct, indices = _distinct_text(column)
    return distinct.take(pa.array(indices))


def _to_numpy(values: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(values, np.nan).to_numpy(zero_copy_only=False), dtype=np.float64)


def numbers(column: pd.Series) -> np.ndarray:
    """Float values; missing, blank and unparseable text are NaN."""
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        return np.asarray(column.to_numpy(dtype=np.float64, na_value=np.nan))
    distinct, indices = _distinct_text(column)
    parseable = pc.match_substring_regex(distinct, _NUMBER)
    kept = pc.if_else(parseable, distinct, pa.scalar(None, pa.string()))
    parsed: np.ndarray = _to_numpy(pc.cast(kept, pa.float64()))[indices]
    return parsed


def booleans(column: pd.Series) -> np.ndarray:
    """1.0 / 0.0 for yes/no-like values (any case), NaN otherwise."""
    if pd.api.types.is_bool_dtype(column):
        return np.asarray(column.to_numpy(dtype=np.float64, na_value=np.nan))
    distinct, indices = _distinct_text(column)
    lowered = pc.utf8_lower(distinct)
    none = pa.scalar(None, pa.float64())
    values = pc.if_else(
        pc.is_in(lowered, _TRUE_SET), 1.0, pc.if_else(pc.is_in(lowered, _FALSE_SET), 0.0, none)
    )
    flags: np.ndarray = _to_numpy(values)[indices]
    return flags


def category_codes(column: pd.Series, categories: pa.Array) -> np.ndarray:
    """Position of each value in `categories` (-1 when unseen); missing values are `MISSING`."""
    distinct, indices = _distinct_text(column)
    codes = pc.fill_null(pc.index_in(pc.fill_null(distinct, MISSING), value_set=categories), -1)
    positions: np.ndarray = np.asarray(codes.to_numpy(zero_copy_only=False), dtype=np.intp)[indices]
    return positions


def category_labels(column: pd.Series) -> pd.Series:
    """Normalised category labels, for counting categories at fit time."""
    return pd.Series(pc.fill_null(text(column), MISSING).to_pylist(), dtype=object)


def unreadable(column: pd.Series, kind: str) -> np.ndarray:
    """Rows whose value is present but is not a number (numeric) or a yes/no (boolean)."""
    if (
        kind == "categorical"
        or pd.api.types.is_bool_dtype(column)
        or pd.api.types.is_numeric_dtype(column)
    ):
        return np.zeros(len(column), dtype=bool)
    distinct, indices = _distinct_text(column)
    present = pc.is_valid(distinct)
    if kind == "numeric":
        readable = pc.match_substring_regex(distinct, _NUMBER)
    else:
        lowered = pc.utf8_lower(distinct)
        readable = pc.or_(pc.is_in(lowered, _TRUE_SET), pc.is_in(lowered, _FALSE_SET))
    bad = pc.and_(present, pc.invert(pc.fill_null(readable, False)))
    flags: np.ndarray = np.asarray(bad.to_numpy(zero_copy_only=False), dtype=bool)[indices]
    return flags
