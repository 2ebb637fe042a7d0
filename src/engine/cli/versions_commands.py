"""Commands for versions in service: deploy, deployments, pointer history, rollback, usage."""

from __future__ import annotations

from typing import Any

import click

from engine.cli.common import company_option, err, open_engine, print_json


@click.command()
@click.argument("asset_id")
@click.argument("version")
@company_option
@click.option("--error-rate", type=float, help="Roll back above this share of failed requests.")
@click.option("--response-time", type=float, help="Roll back above this mean latency (ms).")
@click.option("--watch-window", type=float, help="Seconds to watch after the switch (default 300).")
@click.option("--min-requests", type=int, help="Requests before the watch judges (default 20).")
@click.option("--webhook", "webhooks", multiple=True, help="URL notified of deployment events.")
def deploy(
    asset_id: str,
    version: str,
    company: str,
    error_rate: float | None,
    response_time: float | None,
    watch_window: float | None,
    min_requests: int | None,
    webhooks: tuple[str, ...],
) -> None:
    """Deploy a version blue/green. With a threshold this command stays to watch the new
    version until the window ends (the watch runs in this process) and rolls back on a breach."""
    body: dict[str, Any] = {"deployment_strategy": "blue_green"}
    if error_rate is not None or response_time is not None:
        body["rollback_threshold"] = {"error_rate": error_rate, "response_time": response_time}
    if watch_window is not None:
        body["watch_window_seconds"] = watch_window
    if min_requests is not None:
        body["min_requests"] = min_requests
    if webhooks:
        body["notification_webhooks"] = list(webhooks)
    with open_engine() as engine:
        result = engine.deploy(company, asset_id, version, body, actor="cli")
        if result["status"] == "active" and "watch" in result:
            err.print(f"watching version {version} until {result['watch']['until']}")
            result = engine.wait_for_deployment(company, result["deployment_id"], until_done=True)
        print_json(result)


@click.command()
@click.argument("asset_id")
@company_option
def deployments(asset_id: str, company: str) -> None:
    """List an asset's deployments, newest first."""
    with open_engine() as engine:
        print_json({"data": engine.list_deployments(company, asset_id)})


@click.command()
@click.argument("asset_id")
@company_option
def history(asset_id: str, company: str) -> None:
    """Every change of an asset's active version: who, when, from which to which, why."""
    with open_engine() as engine:
        print_json({"data": engine.version_history(company, asset_id)})


@click.command()
@click.argument("asset_id")
@company_option
@click.option("--reason", help="Recorded in the pointer history.")
def rollback(asset_id: str, company: str, reason: str | None) -> None:
    """Point an asset back at the version active before the current one."""
    with open_engine() as engine:
        print_json(engine.rollback(company, asset_id, reason, actor="cli"))


@click.command()
@click.argument("asset_id")
@company_option
@click.option("--customer", help="Only this consumer.")
@click.option("--since", help="From this time (ISO 8601, inclusive).")
@click.option("--until", help="Up to this time (ISO 8601, exclusive).")
def usage(
    asset_id: str, company: str, customer: str | None, since: str | None, until: str | None
) -> None:
    """Requests and charges per consumer and pricing period."""
    with open_engine() as engine:
        print_json(engine.usage(company, asset_id, customer, since, until))


COMMANDS = (deploy, deployments, history, rollback, usage)
