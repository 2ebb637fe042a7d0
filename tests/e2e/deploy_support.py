"""Shared by the deployment tests: an engine home with a trained asset, executes in a loop from
client threads (each response's model version noted), deployment polling and a webhook
receiver on loopback."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

from engine import Engine
from tests.conftest import SAMPLE_RECORD, SMALL_FEATURES, asset_body

EXECUTE_BODY: dict[str, Any] = {
    "input_data": SAMPLE_RECORD,
    "output_options": {"format": "detailed", "include_metadata": True},
}


def write_customers(home: Path, frame: pd.DataFrame) -> Path:
    """The small Telco table inside `<home>/data`, where a serving engine lets sources read."""
    csv = home / "data" / "customers.csv"
    csv.parent.mkdir(parents=True, exist_ok=True)
    frame.iloc[:1200][["customerID", *SMALL_FEATURES, "Churn"]].to_csv(csv, index=False)
    return csv


def asset_with_versions(
    engine: Engine, company: str, csv: Path, *second: Mapping[str, Any] | None
) -> tuple[str, str, list[str]]:
    """(asset id, first version, further versions): the first trained and active, one more
    trained but not activated per `second` entry (the train body's overrides, or None)."""
    source = engine.connect_source(
        company,
        {
            "name": "customers",
            "type": "duckdb",
            "connection_config": {"files": {"customers": str(csv)}},
        },
    )
    asset_id = engine.create_asset(company, asset_body(source["source_id"]))["asset_id"]
    first = engine.train(company, asset_id)["model_version"]
    more = [
        engine.train(company, asset_id, activate=False, request=body)["model_version"]
        for body in second
    ]
    return asset_id, first, more


@dataclass(frozen=True)
class Sample:
    """One execute as its client saw it (times from time.monotonic())."""

    thread: int
    started: float
    ended: float
    status: int  # 0 when the request did not get an answer
    version: str | None
    error: str | None = None


@dataclass
class Load:
    """`threads` clients sending the same execute in a loop until `stop()`. With `reconnect`,
    every request comes on a new connection (so several server processes all get some)."""

    base_url: str
    api_key: str
    asset_id: str
    threads: int = 5
    reconnect: bool = False
    samples: list[Sample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Load:
        for i in range(self.threads):
            worker = threading.Thread(target=self._run, args=(i,), daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def stop(self) -> list[Sample]:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=60)
        assert not any(w.is_alive() for w in self._workers), "a load thread hung"
        return sorted(self.samples, key=lambda s: s.started)

    def count(self) -> int:
        return len(self.samples)

    def _run(self, index: int) -> None:
        headers = {"X-API-Key": self.api_key}
        if self.reconnect:
            headers["Connection"] = "close"
        url = f"/analytics/assets/{self.asset_id}/execute"
        with httpx.Client(base_url=self.base_url, headers=headers, timeout=30) as client:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    response = client.post(url, json=EXECUTE_BODY)
                except httpx.HTTPError as exc:
                    sample = Sample(index, started, time.monotonic(), 0, None, repr(exc))
                else:
                    ended = time.monotonic()
                    if response.status_code == 200:
                        version = response.json()["data"]["metadata"]["model_version"]
                        sample = Sample(index, started, ended, 200, version)
                    else:
                        sample = Sample(
                            index, started, ended, response.status_code, None, response.text
                        )
                with self._lock:
                    self.samples.append(sample)


def wait_until(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    """Call `check` until it returns something truthy; that value."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(interval)


def follow_deployment(
    client: httpx.Client,
    asset_id: str,
    deployment_id: str,
    done: Callable[[dict[str, Any]], bool],
    timeout: float = 60,
) -> tuple[dict[str, Any], list[str], float]:
    """Poll the deployment until `done(view)`: (the view, every status seen in order, the
    monotonic time the final view arrived)."""
    url = f"/analytics/assets/{asset_id}/deployments/{deployment_id}"
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(url)
        arrived = time.monotonic()
        assert response.status_code == 200, response.text
        view: dict[str, Any] = response.json()["data"]
        seen.append(view["status"])
        if done(view):
            return view, seen, arrived
        assert arrived < deadline, f"deployment did not get there: {view}"
        time.sleep(0.05)


def statuses_in_order(seen: list[str]) -> list[str]:
    """['deploying', 'deploying', 'active'] → ['deploying', 'active']."""
    return [s for i, s in enumerate(seen) if i == 0 or seen[i - 1] != s]


@dataclass(frozen=True)
class Delivery:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> str:
        return self.headers["X-Engine-Event"]

    @property
    def payload(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.body)
        return loaded

    def signed_with(self, secret: str) -> bool:
        expected = hmac.new(
            secret.encode(),
            self.headers["X-Engine-Timestamp"].encode() + b"." + self.body,
            hashlib.sha256,
        ).hexdigest()
        return hmac.compare_digest(self.headers["X-Engine-Signature"], f"sha256={expected}")


class Receiver:
    """A webhook receiver on 127.0.0.1 that answers 200 and keeps every delivery."""

    def __init__(self) -> None:
        self.received: list[Delivery] = []
        lock = threading.Lock()
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with lock:
                    received.append(Delivery(dict(self.headers.items()), body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/deployments"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def for_deployment(self, deployment_id: str) -> list[Delivery]:
        return [
            d for d in self.received if d.payload["deployment"]["deployment_id"] == deployment_id
        ]

    def wait_for(self, deployment_id: str, events: set[str], timeout: float = 30) -> list[Delivery]:
        """The deployment's deliveries once every event in `events` arrived (by event order)."""
        wait_until(
            lambda: events <= {d.event for d in self.for_deployment(deployment_id)},
            timeout,
            f"webhooks {sorted(events)} of {deployment_id}",
        )
        return self.for_deployment(deployment_id)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
