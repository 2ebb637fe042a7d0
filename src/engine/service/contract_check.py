"""Checking a source's current table against the data contract of one of an asset's versions,
before a deploy, a batch or a source test turns the differences into failed predictions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine import contracts
from engine.clock import now_iso
from engine.contracts import Difference
from engine.domain.asset_config import AssetSpec
from engine.errors import ConflictError
from engine.ports import Connector
from engine.service.context import Context
from engine.service.source_connections import open_source

SAMPLE_ROWS = 1000


def check_version(
    ctx: Context,
    company: str,
    asset_id: str,
    version: str | None = None,
    sample_rows: int = SAMPLE_ROWS,
    *,
    table: str | None = None,
) -> dict[str, Any]:
    """Compare the table the asset reads (its training table, or `table`) with the contract of
    `version` (the active one by default), on the table's schema and its first `sample_rows`
    rows. The source is opened afresh, so a file changed since it was last read is seen."""
    row = ctx.store.get_asset(company, asset_id)
    version = version or row["active_version"]
    if version is None:
        raise ConflictError(f"Asset '{asset_id}' has no active version; name the version to check.")
    source_id = AssetSpec.model_validate(row["spec"]).data_sources[0].source_id
    connector = open_source(ctx, company, source_id)
    try:
        return check_with_connector(
            ctx, company, asset_id, version, source_id, connector, sample_rows, table=table
        )
    finally:
        connector.close()


def check_with_connector(
    ctx: Context,
    company: str,
    asset_id: str,
    version: str,
    source_id: str,
    connector: Connector,
    sample_rows: int = SAMPLE_ROWS,
    *,
    table: str | None = None,
) -> dict[str, Any]:
    """`check_version` over a connector the caller has open on `source_id`."""
    ctx.store.get_version(company, asset_id, version)
    _, manifest = ctx.models.get(asset_id, version)
    contract, note = contract_of(manifest, source_id)
    table = table or str(contract["table"])
    differences, sampled = _differences(contract, connector, table, sample_rows)
    return {
        "asset_id": asset_id,
        "version": version,
        "source_id": source_id,
        "table": table,
        "checked_at": now_iso(),
        "compatible": not any(d.severity == "error" for d in differences),
        "contract_stored": note is None,
        "note": note,
        "sampled_rows": sampled,
        "differences": [d.to_dict() for d in differences],
    }


def contract_of(manifest: Mapping[str, Any], source_id: str) -> tuple[dict[str, Any], str | None]:
    """The version's data contract, or for a version trained before contracts were stored, the
    partial one its feature schema gives, with a note saying so."""
    stored = manifest.get("data_contract")
    if stored is not None:
        return dict(stored), None
    table = str(manifest["training_data"]["table"])
    note = (
        f"Version {manifest['version']} was trained before data contracts were stored: only its "
        "feature names and categories are checked, not column types, ranges or missing values. "
        "Retrain the asset to store a full contract."
    )
    return contracts.contract_from_feature_schema(
        manifest["feature_schema"], table, source_id
    ), note


def _differences(
    contract: Mapping[str, Any], connector: Connector, table: str, sample_rows: int
) -> tuple[list[Difference], int]:
    tables = connector.list_tables()
    if table not in tables:
        missing = Difference(
            None,
            "missing_table",
            "error",
            f"Table '{table}' is not in the source (its tables: {', '.join(tables) or 'none'}); "
            "every prediction reads it",
        )
        return [missing], 0
    schema = connector.table_schema(table)
    if sample_rows <= 0:
        return contracts.compare(contract, schema, None), 0
    wanted = contracts.columns_to_sample(contract, schema.names)
    sample = connector.read_table(table, columns=wanted, limit=sample_rows) if wanted else None
    return contracts.compare(contract, schema, sample), 0 if sample is None else sample.num_rows


def errors_of(check: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [d for d in check["differences"] if d["severity"] == "error"]


def advice(check: Mapping[str, Any]) -> list[str]:
    """What to do about each difference a check found, in the words of the difference."""
    asset, table = check["asset_id"], check["table"]
    out = [f"Asset {asset}: {check['note']}"] if check["note"] else []
    for difference in check["differences"]:
        column, values = difference["column"], _quoted(difference["values"])
        kind = difference["kind"]
        if kind == "missing_table":
            out.append(
                f"Table '{table}' that asset {asset} reads is gone from the source; restore it, "
                f"or name the new table in the asset's configuration and retrain asset {asset}"
            )
        elif kind == "missing_column":
            out.append(
                f"Column '{column}' of '{table}' is gone and asset {asset} needs it for every "
                f"prediction; restore it or retrain asset {asset} without it"
            )
        elif kind == "renamed_column":
            new = difference["suggested_column"]
            out.append(
                f"Column '{column}' of '{table}' seems to be called '{new}' now; rename it back "
                f"or retrain asset {asset} on '{new}'"
            )
        elif kind == "type_changed":
            out.append(
                f"Column '{column}' of '{table}': {difference['message']}. Restore its type or "
                f"retrain asset {asset} on the new values"
            )
        elif kind == "unseen_categories":
            out.append(
                f"Column '{column}' of '{table}' now has values never seen in training "
                f"({values}); retrain asset {asset} or map them to trained values"
            )
        elif kind == "out_of_range":
            out.append(
                f"Column '{column}' of '{table}' has values outside the range asset {asset} was "
                f"trained on ({', '.join(difference['values'])}); retrain it on data that covers "
                "them"
            )
        elif kind == "new_nulls":
            out.append(
                f"Column '{column}' of '{table}' now has missing values, which asset {asset} "
                f"never saw in training; fill them or retrain asset {asset}"
            )
    return out


def _quoted(values: list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)
