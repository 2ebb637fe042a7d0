"""`python -m engine demo`: connect the bundled Telco file, create, train and execute a churn
asset, and show what the engine answers."""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console
from rich.table import Table

from engine import demo
from engine.api import Engine
from engine.cli.app import training_progress
from engine.settings import Settings

COMPANY = "demo"


def run_demo(home: str | None) -> None:
    console = Console()
    settings = Settings.for_home(home) if home else Settings.from_environ()
    console.print(f"[bold]engine demo[/bold] — state in {settings.home} (ENGINE_HOME)")
    with Engine.open(settings) as engine:
        existing = {s["source_id"] for s in engine.list_sources(COMPANY)[0]}
        source_id = "telco_customers"
        if source_id not in existing:
            body = {**demo.source_body(), "source_id": source_id}
            source = engine.connect_source(COMPANY, body)
            test = source["connection_test"]
            console.print(
                f"Connected DuckDB source [cyan]{source_id}[/cyan]: {test['tables_discovered']} table(s), "
                f"{test['latency_ms']} ms"
            )
        asset = engine.create_asset(COMPANY, demo.asset_body(source_id))
        asset_id = asset["asset_id"]
        console.print(
            f"Created asset [cyan]{asset_id}[/cyan] (status {asset['status']}, version {asset['version']})"
        )

        bar, update = training_progress(console)
        with bar:
            result = engine.train(COMPANY, asset_id, update)
        _show_training(console, result)

        console.print(
            "\n[bold]Execute by customer id[/bold] (features looked up in the source table):"
        )
        for customer in ("7590-VHVEG", "3668-QPYBK", "9237-HQITU"):
            response = engine.execute(COMPANY, asset_id, {"input_data": {"customer_id": customer}})
            _show_execution(console, customer, response)

        record = _sample_record()
        batch = engine.execute_batch(
            COMPANY,
            asset_id,
            [
                {"id": "new_customer", "input_data": record},
                {"id": "bad_record", "input_data": {**record, "tenure": "twelve"}},
            ],
        )
        console.print(
            f"\n[bold]Batch[/bold]: {batch['successful_records']} scored, {batch['failed_records']} failed"
        )
        for item in batch["results"]:
            if item["status"] == "failed":
                console.print(
                    f"  {item['id']}: {item['errors'][0]['field']} — {item['errors'][0]['problem']}"
                )
            else:
                res = item["results"]
                console.print(
                    f"  {item['id']}: churn_probability {res['churn_probability']:.3f} ({res['risk_level']})"
                )
        artifact = Path(settings.models_dir) / asset_id / result["model_version"]
        console.print(
            f"\nArtifact: {artifact} ({len(os.listdir(artifact))} files, sha256-checked on load)"
        )
        _forecast_demo(console, engine)


def _forecast_demo(console: Console, engine: Engine) -> None:
    console.print("\n[bold]Forecasting[/bold] — monthly US retail sales, a year ahead")
    source_id = "us_retail_sales"
    if source_id not in {s["source_id"] for s in engine.list_sources(COMPANY)[0]}:
        engine.connect_source(COMPANY, {**demo.forecast_source_body(), "source_id": source_id})
    asset_id = engine.create_asset(COMPANY, demo.forecast_asset_body(source_id))["asset_id"]
    bar, update = training_progress(console)
    with bar:
        result = engine.train(COMPANY, asset_id, update)
    table = Table(
        title=f"Version {result['model_version']}: backtest, {result['backtest']['folds_max']} "
        f"folds of {result['backtest']['horizon']} months (chosen: {result['algorithm']})"
    )
    columns = ("mase", "smape", "coverage_80", "coverage_95", "model_coverage_80")
    table.add_column("algorithm")
    for name in columns:
        table.add_column(name)
    for algorithm, scores in result["scores_by_algorithm"].items():
        table.add_row(algorithm, *(_figure(scores.get(name)) for name in columns))
    console.print(table)
    console.print(
        "  coverage_*: the engine's calibrated intervals; model_coverage_80: the model's own 80%"
    )
    response = engine.execute(
        COMPANY, asset_id, {"input_data": {}, "parameters": {"prediction_horizon": 6}}
    )
    for point in response["results"]["forecast"]:
        inner, outer = point["confidence_interval"]["80"], point["confidence_interval"]["95"]
        console.print(
            f"  {point['date']}: [bold]{point['value']:,.0f}[/bold]  80% [{inner['lower']:,.0f}, "
            f"{inner['upper']:,.0f}]  95% [{outer['lower']:,.0f}, {outer['upper']:,.0f}]"
        )
    console.print(f"  {response['metadata']['execution_time_ms']:.2f} ms")


def _figure(value: object) -> str:
    return "–" if value is None else f"{float(value):.3f}"  # type: ignore[arg-type]


def _show_training(console: Console, result: dict[str, object]) -> None:
    metrics = result["model_performance"]
    assert isinstance(metrics, dict)
    table = Table(title=f"Version {result['model_version']} — {result['algorithm']} (holdout)")
    for name in ("auc_roc", "accuracy", "precision", "recall", "f1_score", "interval_coverage"):
        table.add_column(name)
    table.add_row(
        *(
            f"{metrics[n]:.4f}"
            for n in ("auc_roc", "accuracy", "precision", "recall", "f1_score", "interval_coverage")
        )
    )
    console.print(table)
    scores = result["cv_scores"]
    assert isinstance(scores, dict)
    for algorithm, score in scores.items():
        console.print(
            f"  cross-validated ROC AUC {algorithm}: {score['auc_roc_mean']:.4f} ± {score['auc_roc_std']:.4f}"
        )
    console.print(f"  interval: {result['interval_method']}")


def _show_execution(console: Console, customer: str, response: dict[str, object]) -> None:
    res = response["results"]
    assert isinstance(res, dict)
    interval = res["confidence_interval"]
    factors = ", ".join(
        f"{f['factor']} ({f['direction']}, {f['importance']:.2f})" for f in res["key_factors"][:3]
    )
    meta = response["metadata"]
    assert isinstance(meta, dict)
    console.print(
        f"  {customer}: churn_probability [bold]{res['churn_probability']:.3f}[/bold] "
        f"[{interval['lower']:.3f}, {interval['upper']:.3f}] risk {res['risk_level']}; "
        f"{factors}; {meta['execution_time_ms']:.2f} ms"
    )


def _sample_record() -> dict[str, object]:
    return {
        "gender": "Female",
        "SeniorCitizen": 0,
        "Partner": "Yes",
        "Dependents": "No",
        "tenure": 3,
        "PhoneService": "Yes",
        "MultipleLines": "No",
        "InternetService": "Fiber optic",
        "OnlineSecurity": "No",
        "OnlineBackup": "No",
        "DeviceProtection": "No",
        "TechSupport": "No",
        "StreamingTV": "Yes",
        "StreamingMovies": "Yes",
        "Contract": "Month-to-month",
        "PaperlessBilling": "Yes",
        "PaymentMethod": "Electronic check",
        "MonthlyCharges": 94.4,
        "TotalCharges": "283.2",
    }
