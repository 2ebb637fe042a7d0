"""Snowflake column types as the Arrow types the driver reads them into.

Names come either from INFORMATION_SCHEMA.COLUMNS (`NUMBER`, `FLOAT`, `TEXT`, …) or from a
result's metadata (`FIXED`, `REAL`, …); both spellings map to the same Arrow type. Semi-structured
values (VARIANT, OBJECT, ARRAY) and geospatial ones arrive as JSON text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

_SIMPLE: dict[str, pa.DataType] = {
    "FLOAT": pa.float64(),
    "REAL": pa.float64(),
    "TEXT": pa.string(),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
    "TIME": pa.time64("ns"),
    "TIMESTAMP_NTZ": pa.timestamp("ns"),
    "TIMESTAMP": pa.timestamp("ns"),
    "TIMESTAMP_LTZ": pa.timestamp("ns", tz="UTC"),
    "TIMESTAMP_TZ": pa.timestamp("ns", tz="UTC"),
    "BINARY": pa.binary(),
}
_SCALES = {"NUMBER", "FIXED"}


def arrow_type(name: str, precision: int | None = None, scale: int | None = None) -> pa.DataType:
    """The Arrow type of a Snowflake column: NUMBER with scale 0 reads as int64 (as the driver
    does), with a scale as decimal128; anything without a native Arrow form as text."""
    name = name.upper()
    if name in _SCALES:
        if not scale:
            return pa.int64()
        return pa.decimal128(int(precision or 38), int(scale))
    return _SIMPLE.get(name, pa.string())


def schema_of_description(description: Sequence[Any]) -> pa.Schema:
    """The Arrow schema of a result from the cursor's description (used when no rows came back,
    which the driver answers with no Arrow table at all)."""
    from snowflake.connector.constants import FIELD_ID_TO_NAME

    return pa.schema(
        [
            pa.field(c.name, arrow_type(FIELD_ID_TO_NAME[c.type_code], c.precision, c.scale))
            for c in description
        ]
    )
