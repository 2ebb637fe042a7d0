"""BigQuery types: table schemas as Arrow, and Python values as typed query parameters.

Query parameters are typed strictly by BigQuery (an INT64 column never equals a STRING
parameter), so a value compared with a known column is sent as that column's type; BigQuery
parses the text of a value that is not already of that type ("42" for an INT64 column).
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

if TYPE_CHECKING:
    from google.cloud import bigquery

_ARROW_TYPES: dict[str, pa.DataType] = {
    "STRING": pa.string(),
    "BYTES": pa.binary(),
    "INTEGER": pa.int64(),
    "INT64": pa.int64(),
    "FLOAT": pa.float64(),
    "FLOAT64": pa.float64(),
    "NUMERIC": pa.decimal128(38, 9),
    "BIGNUMERIC": pa.decimal256(76, 38),
    "BOOLEAN": pa.bool_(),
    "BOOL": pa.bool_(),
    "TIMESTAMP": pa.timestamp("us", tz="UTC"),
    "DATETIME": pa.timestamp("us"),
    "DATE": pa.date32(),
    "TIME": pa.time64("us"),
    "GEOGRAPHY": pa.string(),
    "JSON": pa.string(),
}

# Standard SQL names for the legacy names the tables API reports.
_PARAMETER_TYPES = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL"}


def arrow_schema(fields: Sequence[bigquery.SchemaField]) -> pa.Schema:
    return pa.schema([_arrow_field(f) for f in fields])


def _arrow_field(field: bigquery.SchemaField) -> pa.Field:
    kind = str(field.field_type).upper()
    if kind in ("RECORD", "STRUCT"):
        arrow_type: pa.DataType = pa.struct([_arrow_field(f) for f in field.fields])
    else:
        arrow_type = _ARROW_TYPES.get(kind, pa.string())
    if field.mode == "REPEATED":
        return pa.field(field.name, pa.list_(arrow_type), nullable=False)
    return pa.field(field.name, arrow_type, nullable=field.mode != "REQUIRED")


def parameter_type(column_type: str) -> str | None:
    """The scalar parameter type for a column type, or None for columns no scalar fits."""
    kind = column_type.upper()
    kind = _PARAMETER_TYPES.get(kind, kind)
    if kind in ("RECORD", "STRUCT", "GEOGRAPHY", "JSON", "RANGE", "INTERVAL"):
        return None
    return kind


def value_type(value: Any) -> str:
    """The parameter type a plain Python value is sent as."""
    if isinstance(value, bool):
        return "BOOL"
    if isinstance(value, int):
        return "INT64"
    if isinstance(value, float):
        return "FLOAT64"
    if isinstance(value, decimal.Decimal):
        return "NUMERIC"
    if isinstance(value, bytes):
        return "BYTES"
    if isinstance(value, dt.datetime):
        return "TIMESTAMP" if value.tzinfo is not None else "DATETIME"
    if isinstance(value, dt.date):
        return "DATE"
    if isinstance(value, dt.time):
        return "TIME"
    return "STRING"


def plain(value: Any) -> Any:
    """numpy scalars as the Python values the client library serialises."""
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    return value


def scalar_parameter(value: Any, type_: str | None = None) -> bigquery.ScalarQueryParameter:
    """A positional parameter; with a column's `type_`, a value of another kind goes as text."""
    from google.cloud import bigquery

    value = plain(value)
    natural = value_type(value)
    if type_ is None or value is None:
        return bigquery.ScalarQueryParameter(None, type_ or natural, value)
    if natural == type_ or (type_, natural) == ("TIMESTAMP", "DATETIME"):  # naive means UTC
        return bigquery.ScalarQueryParameter(None, type_, value)
    if (type_, natural) == ("FLOAT64", "INT64"):
        return bigquery.ScalarQueryParameter(None, type_, float(value))
    return bigquery.ScalarQueryParameter(None, type_, _text(value))


def _text(value: Any) -> str:
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def query_parameter(value: Any) -> bigquery.ScalarQueryParameter | bigquery.ArrayQueryParameter:
    """A positional parameter of `query()`: a list or tuple becomes an array (`IN UNNEST(?)`)."""
    from google.cloud import bigquery

    if isinstance(value, (list, tuple)):
        values = [plain(v) for v in value]
        element = next((value_type(v) for v in values if v is not None), "STRING")
        return bigquery.ArrayQueryParameter(None, element, values)
    return scalar_parameter(value)
