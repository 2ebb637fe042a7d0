"""`python -m engine` on a forecasting asset: create, train with progress, predict one series
as JSON and several as CSV with a horizon, and a bad series as a one-line error."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from tests.e2e.test_cli import cli, ok_json, one_line_error, write_json
from tests.forecasting.sales_data import forecast_asset_body, write_sales_csv


def test_forecast_asset_from_the_command_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    data = write_sales_csv(tmp_path)
    source = tmp_path / "source.toml"
    source.write_text(
        'name = "Sales"\ntype = "duckdb"\n'
        f"[connection_config.files]\nsales = {json.dumps(str(data))}\n"
    )
    source_id = ok_json(cli(home, "sources", "connect", str(source)))["source_id"]
    body = write_json(tmp_path / "asset.json", forecast_asset_body(source_id, algorithms=["arima"]))
    asset_id = ok_json(cli(home, "assets", "create", str(body)))["asset_id"]

    trained = ok_json(cli(home, "train", asset_id, timeout=300))
    assert trained["deployment_status"] == "successful"
    assert {s["algorithm"] for s in trained["series"]} == {"arima"}

    one = write_json(tmp_path / "one.json", {"input_data": {"product_category": "books"}})
    single = ok_json(cli(home, "predict", asset_id, "-i", str(one), "--horizon", "4"))
    assert len(single["results"]["forecast"]) == 4

    many = write_json(
        tmp_path / "many.json",
        [{"product_category": "books"}, {"product_category": "toys"}],
    )
    result = cli(
        home, "predict", asset_id, "-i", str(many), "--horizon", "3", "--output-format", "csv"
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 6
    assert {r["product_category"] for r in rows} == {"books", "toys"}
    for row in rows:
        assert float(row["lower_95"]) <= float(row["lower_80"]) < float(row["value"])
        assert float(row["value"]) < float(row["upper_80"]) <= float(row["upper_95"])
    assert [r["value"] for r in rows[:3]] == [
        str(p["value"]) for p in single["results"]["forecast"][:3]
    ]

    bad = write_json(tmp_path / "bad.json", {"input_data": {"product_category": "sofas"}})
    line = one_line_error(cli(home, "predict", asset_id, "-i", str(bad)))
    assert "input_data.product_category" in line
    assert "unknown series" in line
