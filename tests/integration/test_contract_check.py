"""The data contract check on real DuckDB: the small Telco asset trained, then its CSV rewritten
under it (a column dropped, retyped, renamed, a category never seen); the check, the source test
and a batch over the table all see exactly what changed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from engine import ConflictError, Engine
from engine.service import training
from engine.service.contract_check import check_version
from engine.service.sources import cached_connector

Change = Callable[[pd.DataFrame], pd.DataFrame]


def _dropped(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=["PaymentMethod"])


def _retyped(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(tenure=[f"{v} months" for v in frame["tenure"]])


def _renamed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.rename(columns={"Contract": "ContractType"})


def _unseen(frame: pd.DataFrame) -> pd.DataFrame:
    changed = frame.copy()
    changed.loc[:2, "Contract"] = "Four year"
    return changed


CHANGES: list[tuple[Change, tuple[str, str, str], str]] = [
    (
        _dropped,
        ("PaymentMethod", "missing_column", "error"),
        "'PaymentMethod' is not in 'customers'; every prediction needs it",
    ),
    (
        _retyped,
        ("tenure", "type_changed", "error"),
        "'tenure' is now string (was int64); 1000 of 1000 sampled rows have 'tenure' values "
        "that do not read as numbers",
    ),
    (
        _renamed,
        ("Contract", "renamed_column", "error"),
        "'Contract' is missing; 'ContractType' looks like it under a new name",
    ),
    (
        _unseen,
        ("Contract", "unseen_categories", "warning"),
        "3 of 1000 sampled rows have Contract values never seen in training: 'Four year'",
    ),
]


def rewrite(path: Path, change: Change) -> None:
    change(pd.read_csv(path)).to_csv(path, index=False)


def found(check: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(d["column"], d["kind"], d["severity"]) for d in check["differences"]]


def source_id(engine: Engine) -> str:
    [source], _ = engine.list_sources("acme")
    return str(source["source_id"])


def test_the_unchanged_table_fits_its_contract(trained: tuple[Engine, str]) -> None:
    engine, asset_id = trained
    check = check_version(engine.context, "acme", asset_id)
    assert check["version"] == "1.0.0"
    assert (check["source_id"], check["table"]) == (source_id(engine), "customers")
    assert (check["compatible"], check["contract_stored"], check["sampled_rows"]) == (
        True,
        True,
        1000,
    )
    assert check["differences"] == []
    tested = engine.test_source("acme", source_id(engine))
    validation = tested["test_results"]["data_validation"]
    assert validation["schema_consistency"] is True
    assert [c["asset_id"] for c in validation["contract_checks"]] == [asset_id]
    assert tested["recommendations"] == [
        "All checks passed: the source is reachable, readable and consistent with its assets"
    ]


@pytest.mark.parametrize(("change", "expected", "message"), CHANGES)
def test_check_and_source_test_report_exactly_what_changed(
    trained: tuple[Engine, str],
    small_csv: Path,
    change: Change,
    expected: tuple[str, str, str],
    message: str,
) -> None:
    engine, asset_id = trained
    rewrite(small_csv, change)
    check = check_version(engine.context, "acme", asset_id)
    assert found(check) == [expected]
    assert check["differences"][0]["message"].startswith(message)
    assert check["compatible"] is (expected[2] != "error")

    tested = engine.test_source("acme", source_id(engine))
    validation = tested["test_results"]["data_validation"]
    assert validation["schema_consistency"] is (expected[2] != "error")
    [checked] = validation["contract_checks"]
    assert checked["differences"] == check["differences"]
    assert ("schema_consistency" in tested["problems"]) is (expected[2] == "error")
    [advice] = tested["recommendations"]
    assert f"Column '{expected[0]}' of 'customers'" in advice
    assert asset_id in advice


def test_a_renamed_column_suggests_its_new_name_and_unseen_values_are_named(
    trained: tuple[Engine, str], small_csv: Path
) -> None:
    engine, asset_id = trained
    rewrite(small_csv, lambda f: _unseen(_renamed(f).rename(columns={"ContractType": "Contract"})))
    [unseen] = check_version(engine.context, "acme", asset_id)["differences"]
    assert unseen["values"] == ["Four year"]
    rewrite(small_csv, _renamed)
    [renamed] = check_version(engine.context, "acme", asset_id)["differences"]
    assert renamed["suggested_column"] == "ContractType"
    [advice] = engine.test_source("acme", source_id(engine))["recommendations"]
    assert advice == (
        "Column 'Contract' of 'customers' seems to be called 'ContractType' now; rename it back "
        f"or retrain asset {asset_id} on 'ContractType'"
    )


def test_the_check_reads_the_file_as_it_is_now_even_with_a_connector_cached(
    trained: tuple[Engine, str], small_csv: Path
) -> None:
    engine, asset_id = trained
    cached = cached_connector(engine.context, "acme", source_id(engine))
    assert "PaymentMethod" in cached.table_schema("customers").names
    rewrite(small_csv, _dropped)
    assert found(check_version(engine.context, "acme", asset_id)) == [
        ("PaymentMethod", "missing_column", "error")
    ]


def test_a_missing_table_is_an_error(trained: tuple[Engine, str]) -> None:
    engine, asset_id = trained
    check = check_version(engine.context, "acme", asset_id, table="customers_2025")
    assert found(check) == [(None, "missing_table", "error")]
    assert check["compatible"] is False


def test_a_version_without_a_contract_says_so_and_still_checks_its_features(
    trained: tuple[Engine, str], small_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, asset_id = trained
    manifest = training._manifest

    def without_contract(*args: Any) -> dict[str, Any]:
        return {k: v for k, v in manifest(*args).items() if k != "data_contract"}

    monkeypatch.setattr(training, "_manifest", without_contract)
    version = engine.train("acme", asset_id)["model_version"]
    check = check_version(engine.context, "acme", asset_id, version)
    assert (check["contract_stored"], check["differences"]) == (False, [])
    assert "trained before data contracts were stored" in check["note"]
    rewrite(small_csv, _dropped)
    tested = engine.test_source("acme", source_id(engine))
    [checked] = tested["test_results"]["data_validation"]["contract_checks"]
    assert found(checked) == [("PaymentMethod", "missing_column", "error")]
    assert tested["recommendations"][0].startswith(f"Asset {asset_id}: Version {version} was")


def test_a_table_batch_missing_a_feature_is_refused(
    trained: tuple[Engine, str], small_csv: Path
) -> None:
    engine, asset_id = trained
    rewrite(small_csv, _dropped)
    with pytest.raises(ConflictError, match="'PaymentMethod' is not in 'customers'") as refused:
        engine.run_batch("acme", asset_id, {"source_table": {"table": "customers"}})
    assert "every row would fail" in refused.value.message
    assert engine.list_jobs("acme", "batch") == []


def test_a_table_batch_with_warnings_runs_and_reports_them(
    trained: tuple[Engine, str], small_csv: Path
) -> None:
    engine, asset_id = trained
    rewrite(small_csv, _unseen)
    accepted = engine.run_batch("acme", asset_id, {"source_table": {"table": "customers"}})
    assert found(accepted["contract_check"]) == [("Contract", "unseen_categories", "warning")]
    status = engine.batch_status("acme", accepted["batch_id"])
    assert status["contract_check"] == accepted["contract_check"]
    records = engine.run_batch("acme", asset_id, {"batch_data": [{"input_data": {}}]})
    assert records["contract_check"] is None


def test_a_source_kept_open_sees_a_rewritten_file(
    trained: tuple[Engine, str], small_csv: Path
) -> None:
    """Entity look-ups go through a connector kept open; a CSV rewritten under it is read again
    (within a second) rather than served from the copy loaded at first use."""
    import time

    from engine.errors import NotFoundError

    engine, asset_id = trained
    frame = pd.read_csv(small_csv)
    first = str(frame["customerID"][0])
    engine.execute("acme", asset_id, {"input_data": {"customer_id": first}})  # opens and keeps
    frame.iloc[1:].to_csv(small_csv, index=False)  # that customer is gone now
    time.sleep(1.1)
    with pytest.raises(NotFoundError):
        engine.execute("acme", asset_id, {"input_data": {"customer_id": first}})
    second = str(frame["customerID"][1])
    assert engine.execute("acme", asset_id, {"input_data": {"customer_id": second}})["results"]
