"""Blue/green deployment across the processes of `python -m engine serve --workers 2`: both
serving processes warm the new version before the switch and acknowledge the switch before the
deployment says `active`; under load from client threads no request fails, and every request
that starts once it is `active` is served by the new version, whichever process answers it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pandas as pd

from engine import Engine, Settings
from engine.clock import iso
from engine.service import keys
from tests.e2e.deploy_support import (
    EXECUTE_BODY,
    Load,
    asset_with_versions,
    follow_deployment,
    statuses_in_order,
    wait_until,
    write_customers,
)

WORKERS = 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def live_serving_processes(engine: Engine) -> set[str]:
    since = iso(engine.context.clock() - timedelta(seconds=5))
    return set(engine.context.store.deployments.live_processes(since))


def test_deploy_across_two_worker_processes(tmp_path: Path, telco_frame: pd.DataFrame) -> None:
    home = tmp_path / "home"
    csv = write_customers(home, telco_frame)
    with Engine.open(Settings.for_home(home)) as engine:
        key = keys.create_key(engine.context, "acme")
        asset_id, v1, (v2,) = asset_with_versions(engine, "acme", csv, None)

        port = free_port()
        env = {
            **os.environ,
            "ENGINE_HOME": str(home),
            "ENGINE_RATE_LIMIT_PER_MINUTE": "10000000",  # the load is not what is tested
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "engine", "serve", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(
                base_url=base_url, headers={"X-API-Key": key["api_key"]}, timeout=30
            ) as client:
                wait_until(
                    lambda: len(live_serving_processes(engine)) == WORKERS,
                    90,
                    "both worker processes to register",
                    interval=0.2,
                )
                workers = live_serving_processes(engine)

                def answers() -> bool:
                    try:
                        response = client.post(
                            f"/analytics/assets/{asset_id}/execute", json=EXECUTE_BODY
                        )
                    except httpx.TransportError:
                        return False
                    return response.status_code == 200

                wait_until(answers, 60, "the server to answer", interval=0.2)

                # Every request on a connection of its own, so both processes get some.
                load = Load(base_url, key["api_key"], asset_id, threads=4, reconnect=True)
                load.start()
                wait_until(lambda: load.count() >= 100, 60, "load before the deploy")
                deploy_sent = time.monotonic()
                response = client.post(f"/analytics/assets/{asset_id}/versions/{v2}/deploy")
                assert response.status_code == 202, response.text
                deployment_id = response.json()["data"]["deployment_id"]
                view, seen, active_seen = follow_deployment(
                    client, asset_id, deployment_id, lambda v: v["status"] != "deploying"
                )
                at_active = load.count()
                time.sleep(1.5)  # the load goes on
                wait_until(lambda: load.count() >= at_active + 100, 30, "load after the switch")
                samples = load.stop()
        finally:
            server.terminate()
            server.wait(timeout=30)
        log = server.stderr.read() if server.stderr else ""

        assert statuses_in_order(["deploying", *seen]) == ["deploying", "active"], (seen, log)
        assert view["requested_by"] == key["key_id"]
        failed = [s for s in samples if s.status != 200]
        assert not failed, f"{len(failed)} of {len(samples)} requests failed, first: {failed[0]}"
        assert len(samples) >= 200, f"only {len(samples)} requests under load"
        before = [s for s in samples if s.ended < deploy_sent]
        after = [s for s in samples if s.started > active_seen]
        assert len(before) >= 100
        assert len(after) >= 50, len(after)
        assert {s.version for s in before} == {v1}
        assert {s.version for s in after} == {v2}, sorted(
            (round(s.started - active_seen, 3), s.version) for s in after if s.version != v2
        )[:5]

        # The coordinator waited for both processes: each warmed v2 and acknowledged the switch.
        store = engine.context.store.deployments
        warmed = store.acks(deployment_id, "warm")
        switched = store.acks(deployment_id, "switched")
        assert set(warmed) == workers, (warmed, workers)
        assert set(warmed.values()) == {None}, warmed
        assert set(switched) == workers, (switched, workers)
        assert engine.context.store.get_asset("acme", asset_id)["active_version"] == v2
        # Both processes left the register on their way out.
        assert live_serving_processes(engine) == set()
        assert log.count("Finished server process") == WORKERS, log
