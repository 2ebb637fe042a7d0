"""Reading request bodies (JSON or TOML) and prediction inputs (JSON or CSV) for the CLI."""

from __future__ import annotations

import csv
import io
import json
import sys
import tomllib
from pathlib import Path
from typing import Any

from engine.errors import ValidationError


def read_text(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    file = Path(path)
    if not file.is_file():
        raise ValidationError.for_field("file", f"no such file: {path}")
    return file.read_text()


def read_document(path: str) -> dict[str, Any]:
    """A JSON or TOML object, by file suffix (JSON for stdin)."""
    text = read_text(path)
    try:
        data = tomllib.loads(text) if path.endswith(".toml") else json.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise ValidationError.for_field(
            "file", f"{path} is not valid {'TOML' if path.endswith('.toml') else 'JSON'}: {exc}"
        ) from None
    if not isinstance(data, dict):
        raise ValidationError.for_field("file", f"{path} must hold an object")
    return data


def read_records(path: str, input_format: str | None) -> tuple[list[dict[str, Any]], bool]:
    """Return (records, single): each record has the contract's batch shape."""
    text = read_text(path)
    fmt = input_format or ("csv" if path.endswith(".csv") else "json")
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        return [
            {"id": i, "input_data": {k: (v if v != "" else None) for k, v in row.items()}}
            for i, row in enumerate(rows)
        ], False
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValidationError.for_field("input", f"not valid JSON: {exc}") from None
    if isinstance(data, list):
        return [
            r if isinstance(r, dict) and "input_data" in r else {"id": i, "input_data": r}
            for i, r in enumerate(data)
        ], False
    if isinstance(data, dict) and "batch_data" in data:
        return list(data["batch_data"]), False
    if isinstance(data, dict):
        return [data if "input_data" in data else {"input_data": data}], True
    raise ValidationError.for_field("input", "must be a JSON object, a list of objects, or CSV")


def write_csv(results: list[dict[str, Any]], probability_field: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "status", probability_field, "risk_level", "lower", "upper", "errors"])
    for item in results:
        res = item.get("results", {})
        interval = res.get("confidence_interval", {})
        errors = "; ".join(f"{e['field']}: {e['problem']}" for e in item.get("errors", []))
        writer.writerow(
            [
                item.get("id"),
                item["status"],
                res.get(probability_field, ""),
                res.get("risk_level", ""),
                interval.get("lower", ""),
                interval.get("upper", ""),
                errors,
            ]
        )
    return out.getvalue()


def write_forecast_csv(results: list[dict[str, Any]]) -> str:
    """One row per forecast point: the record, its series key, date, value and each interval
    level's bounds (`lower_80`, `upper_80`, …); a failed record is one row with its errors."""
    keys: list[str] = []
    levels: list[str] = []
    for item in results:
        res = item.get("results", {})
        keys += [k for k in res.get("series", {}) if k not in keys]
        for point in res.get("forecast", [])[:1]:
            levels += [lv for lv in point.get("confidence_interval", {}) if lv not in levels]
    bounds = [f"{side}_{level}" for level in levels for side in ("lower", "upper")]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "status", *keys, "date", "value", *bounds, "errors"])
    for item in results:
        res = item.get("results", {})
        series = res.get("series", {})
        errors = "; ".join(f"{e['field']}: {e['problem']}" for e in item.get("errors", []))
        points = res.get("forecast") or [{}]
        for point in points:
            interval = point.get("confidence_interval", {})
            writer.writerow(
                [
                    item.get("id"),
                    item["status"],
                    *(series.get(k, "") for k in keys),
                    point.get("date", ""),
                    point.get("value", ""),
                    *(
                        interval.get(lv, {}).get(side, "")
                        for lv in levels
                        for side in ("lower", "upper")
                    ),
                    errors,
                ]
            )
    return out.getvalue()
