"""Commands of `python -m engine`. Errors print as one line on stderr with a non-zero exit."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from engine.cli import files, versions_commands
from engine.cli.common import company_option, err
from engine.cli.common import open_engine as _engine
from engine.cli.common import print_json as _print
from engine.domain.asset_config import TIME_SERIES_MODEL_TYPES
from engine.errors import ConflictError, EngineError
from engine.training.progress import STEPS

if TYPE_CHECKING:
    from engine.api import Engine


@click.group(help="Analytics execution engine: connect sources, train assets, execute them.")
def app() -> None:
    pass


@app.group("sources")
def sources_app() -> None:
    """Data sources."""


@app.group("assets")
def assets_app() -> None:
    """Analytics assets."""


@app.group("jobs")
def jobs_app() -> None:
    """Training jobs and batches."""


@jobs_app.command("list")
@company_option
@click.option("--kind", type=click.Choice(["training", "batch"]))
def jobs_list(company: str, kind: str | None) -> None:
    """The latest jobs, newest first."""
    with _engine() as engine:
        _print(engine.list_jobs(company, kind))


@jobs_app.command("status")
@click.argument("job_id")
@company_option
def jobs_status(job_id: str, company: str) -> None:
    """A job's status and progress."""
    with _engine() as engine:
        if job_id.startswith("batch_"):
            _print(engine.batch_status(company, job_id))
        else:
            _print(engine.training_job(company, job_id))


@jobs_app.command("logs")
@click.argument("job_id")
@company_option
def jobs_logs(job_id: str, company: str) -> None:
    """A training job's log lines."""
    with _engine() as engine:
        for line in engine.training_logs(company, job_id)["logs"]:
            sys.stdout.write(line + "\n")


@jobs_app.command("cancel")
@click.argument("job_id")
@company_option
def jobs_cancel(job_id: str, company: str) -> None:
    """Cancel a queued or running job (a running one stops at its next step or chunk)."""
    with _engine() as engine:
        _print(engine.cancel_job(company, job_id))


@jobs_app.command("recover")
def jobs_recover() -> None:
    """Resume or fail jobs whose worker process is gone (the server does this when it starts)."""
    with _engine() as engine:
        for line in engine.recover_jobs():
            err.print(line)


@app.group("keys")
def keys_app() -> None:
    """API keys for the HTTP server (each belongs to one company)."""


@keys_app.command("create")
@click.option("--company", required=True, help="The company the key acts for.")
@click.option("--name", help="A label to recognise the key by.")
def keys_create(company: str, name: str | None) -> None:
    """Create a key and print it; it is shown only this once."""
    from engine.service import keys

    with _engine() as engine:
        created = keys.create_key(engine.context, company, name)
    err.print("Store this key now: it cannot be shown again.", style="yellow")
    _print(created)


@keys_app.command("list")
@click.option("--company", help="Only this company's keys.")
def keys_list(company: str | None) -> None:
    """List keys (never the keys themselves)."""
    from engine.service import keys

    with _engine() as engine:
        _print(keys.list_keys(engine.context, company))


@keys_app.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id: str) -> None:
    """Revoke a key by its id."""
    from engine.service import keys

    with _engine() as engine:
        keys.revoke_key(engine.context, key_id)
    err.print(f"{key_id} revoked")


@keys_app.command("webhook-secret")
@click.option("--company", required=True)
def keys_webhook_secret(company: str) -> None:
    """Print the secret that signs the company's callbacks (created on first use)."""
    from engine.service import callbacks

    with _engine() as engine:
        sys.stdout.write(callbacks.company_secret(engine.context, company) + "\n")


@keys_app.command("new-secret-key")
def keys_new_secret_key() -> None:
    """Print a new key for sealing credentials (for ENGINE_SECRET_KEYS)."""
    from cryptography.fernet import Fernet

    sys.stdout.write(Fernet.generate_key().decode() + "\n")


@keys_app.command("reseal")
def keys_reseal() -> None:
    """Re-seal every stored credential with the first key of ENGINE_SECRET_KEYS (run after
    putting a new key first; remove the old key once this has run)."""
    from engine.service.secrets_rotation import reseal_all

    with _engine() as engine:
        _print(reseal_all(engine.context))


@app.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
def serve(host: str, port: int, workers: int) -> None:
    """Serve the REST API with uvicorn (state from ENGINE_HOME)."""
    import uvicorn

    uvicorn.run(
        "engine.http.asgi:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=False,
    )


def training_progress(console: Console) -> tuple[Progress, Any]:
    bar = Progress(
        TextColumn("{task.description:<20}"),
        BarColumn(),
        TextColumn("{task.fields[message]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    tasks = {step: bar.add_task(step, total=1.0, message="", visible=False) for step in STEPS}

    def update(step: str, done: float, message: str) -> None:
        bar.update(tasks[step], completed=done, message=message, visible=True)

    return bar, update


@sources_app.command("connect")
@click.argument("file")
@company_option
def sources_connect(file: str, company: str) -> None:
    """Connect a data source (runs its connection test)."""
    with _engine() as engine:
        _print(engine.connect_source(company, files.read_document(file)))


@sources_app.command("list")
@company_option
@click.option("--type", "type_", help="Filter by source type.")
@click.option("--status", help="Filter by connection status.")
def sources_list(company: str, type_: str | None, status: str | None) -> None:
    """List data sources."""
    with _engine() as engine:
        items, meta = engine.list_sources(company, type=type_, status=status)
        _print({"data": items, "meta": meta})


@assets_app.command("create")
@click.argument("file")
@company_option
def assets_create(file: str, company: str) -> None:
    """Create an analytics asset (status draft, version 1.0.0)."""
    with _engine() as engine:
        _print(engine.create_asset(company, files.read_document(file)))


@assets_app.command("list")
@company_option
@click.option("--status")
@click.option("--category")
@click.option("--data-source")
@click.option("--sort", default="created_at", show_default=True)
@click.option("--limit", default=50, show_default=True)
@click.option("--offset", default=0, show_default=True)
def assets_list(
    company: str,
    status: str | None,
    category: str | None,
    data_source: str | None,
    sort: str,
    limit: int,
    offset: int,
) -> None:
    """List analytics assets."""
    with _engine() as engine:
        items, meta = engine.list_assets(
            company,
            status=status,
            category=category,
            data_source=data_source,
            sort=sort,
            limit=limit,
            offset=offset,
        )
        _print({"data": items, "meta": meta})


@assets_app.command("show")
@click.argument("asset_id")
@company_option
def assets_show(asset_id: str, company: str) -> None:
    """Show an asset's details."""
    with _engine() as engine:
        _print(engine.get_asset(company, asset_id))


@assets_app.command("update")
@click.argument("asset_id")
@click.argument("file")
@company_option
def assets_update(asset_id: str, file: str, company: str) -> None:
    """Update an asset (PATCH semantics)."""
    with _engine() as engine:
        _print(engine.update_asset(company, asset_id, files.read_document(file)))


@assets_app.command("delete")
@click.argument("asset_id")
@company_option
@click.option("--permanent", is_flag=True, help="Remove the asset and its artifacts.")
def assets_delete(asset_id: str, company: str, permanent: bool) -> None:
    """Archive an asset, or delete it permanently."""
    with _engine() as engine:
        engine.delete_asset(company, asset_id, permanent)
        err.print(f"{asset_id} {'deleted' if permanent else 'archived'}")


@app.command()
@click.argument("asset_id")
@company_option
@click.option("--no-activate", is_flag=True, help="Store the version without activating it.")
def train(asset_id: str, company: str, no_activate: bool) -> None:
    """Train an asset into a new version, showing progress."""
    with _engine() as engine:
        bar, update = training_progress(err)
        with bar:
            result = engine.train(company, asset_id, update, activate=not no_activate)
        _print(result)


@app.command()
@click.argument("asset_id")
@company_option
@click.option("--version", help="Default: the active version.")
@click.option(
    "--output", "-o", default="-", show_default=True, help="HTML file to write, or - for stdout."
)
def report(asset_id: str, company: str, version: str | None, output: str) -> None:
    """Write a version's training report (HTML with plots)."""
    with _engine() as engine:
        html = engine.training_report(company, asset_id, version)
    if output == "-":
        sys.stdout.write(html)
    else:
        with open(output, "w") as handle:
            handle.write(html)
        err.print(f"report written to {output}")


@app.command()
@click.argument("asset_id")
@company_option
def versions(asset_id: str, company: str) -> None:
    """List an asset's versions."""
    with _engine() as engine:
        items, meta = engine.list_versions(company, asset_id)
        _print({"data": items, "meta": meta})


@app.command()
@click.argument("asset_id")
@click.option(
    "--input",
    "-i",
    "input_path",
    required=True,
    help="JSON or CSV file of records, or - for stdin.",
)
@company_option
@click.option("--input-format", type=click.Choice(["json", "csv"]), help="Default: by file suffix.")
@click.option(
    "--output-format", type=click.Choice(["json", "csv"]), default="json", show_default=True
)
@click.option(
    "--batch", "as_batch", is_flag=True, help="Run as a batch job with a live progress bar."
)
@click.option(
    "--horizon", type=int, help="Forecasts: steps ahead (default the asset's own horizon)."
)
def predict(
    asset_id: str,
    input_path: str,
    company: str,
    input_format: str | None,
    output_format: str,
    as_batch: bool,
    horizon: int | None,
) -> None:
    """Execute an asset's active version on one record or many (a forecast: one per series)."""
    records, single = files.read_records(input_path, input_format)
    parameters = {} if horizon is None else {"prediction_horizon": horizon}
    with _engine() as engine:
        if as_batch:
            batch = _run_batch_job(engine, company, asset_id, records, parameters)
        elif single and output_format == "json":
            request = dict(records[0])
            request["parameters"] = {**(request.get("parameters") or {}), **parameters}
            _print(engine.execute(company, asset_id, request))
            return
        else:
            batch = engine.execute_batch(company, asset_id, records, parameters or None)
        if output_format == "csv":
            from engine.service.asset_views import probability_field

            configuration = engine.get_asset(company, asset_id)["configuration"]
            if configuration["model_type"] in TIME_SERIES_MODEL_TYPES:
                sys.stdout.write(files.write_forecast_csv(batch["results"]))
            else:
                target = configuration["target_variable"]
                sys.stdout.write(files.write_csv(batch["results"], probability_field(target)))
        else:
            _print(batch)


def _run_batch_job(
    engine: Engine,
    company: str,
    asset_id: str,
    records: list[dict[str, Any]],
    parameters: dict[str, Any],
) -> dict[str, Any]:
    import time

    body: dict[str, Any] = {"batch_data": records}
    if parameters:
        body["parameters"] = parameters
    accepted = engine.run_batch(company, asset_id, body)
    batch_id = accepted["batch_id"]
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
    )
    with bar:
        task = bar.add_task(batch_id, total=accepted["total_records"])
        while True:
            status = engine.batch_status(company, batch_id)
            bar.update(task, completed=status["progress"]["processed_records"])
            if status["status"] in ("completed", "failed", "cancelled"):
                break
            time.sleep(0.2)
    if status["status"] != "completed":
        raise ConflictError(f"Batch {batch_id} ended {status['status']}: {status['error']}")
    content, _ = engine.batch_results(company, batch_id)
    assert isinstance(content, dict)
    results = content["results"]
    ok = sum(1 for r in results if r["status"] == "success")
    return {
        "batch_id": batch_id,
        "asset_id": asset_id,
        "model_version": content["model_version"],
        "total_records": len(results),
        "successful_records": ok,
        "failed_records": len(results) - ok,
        "results": results,
    }


@app.command()
@click.option("--home", help="ENGINE_HOME for the demo (default: the current one).")
def demo(home: str | None) -> None:
    """Train and execute a churn classifier on the bundled IBM Telco data, end to end."""
    from engine.cli.demo import run_demo

    run_demo(home)


for command in versions_commands.COMMANDS:
    app.add_command(command)


def run(argv: Sequence[str]) -> int:
    try:
        app(args=list(argv), prog_name="python -m engine", standalone_mode=False)
    except EngineError as exc:
        err.print(
            f"error: {exc.message}", markup=False, highlight=False, soft_wrap=True, style="red"
        )
        return 1
    except click.exceptions.Abort:
        err.print("aborted")
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    return 0
