"""Signed callbacks received by a real HTTP receiver on loopback, with the retry path."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from engine import Engine, Settings, ValidationError
from engine.service import callbacks
from tests.conftest import SAMPLE_RECORD, asset_body

RECORD = SAMPLE_RECORD


class Receiver:
    """Answers 500 to the first `fail_first` requests, then 200; keeps what it received."""

    def __init__(self, fail_first: int) -> None:
        self.fail_first = fail_first
        self.received: list[tuple[dict[str, str], bytes, int]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = 500 if len(receiver.received) < receiver.fail_first else 200
                receiver.received.append((dict(self.headers.items()), body, status))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"only {len(self.received)} callbacks arrived"
            time.sleep(0.05)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver(fail_first=1)
    yield made
    made.server.shutdown()


@pytest.fixture
def allowlisted(tmp_path: Path, small_csv: Path) -> Iterator[tuple[Engine, str]]:
    settings = dataclasses.replace(
        Settings.for_home(tmp_path / "home"), callback_allowlist=("127.0.0.1",), job_mode="thread"
    )
    with Engine.open(settings) as engine:
        source = engine.connect_source(
            "acme",
            {
                "name": "c",
                "type": "duckdb",
                "connection_config": {"files": {"customers": str(small_csv)}},
            },
        )
        asset_id = engine.create_asset("acme", asset_body(source["source_id"]))["asset_id"]
        engine.train("acme", asset_id)
        yield engine, asset_id


def test_batch_callback_is_signed_and_retried_after_a_failure(
    allowlisted: tuple[Engine, str], receiver: Receiver
) -> None:
    engine, asset_id = allowlisted
    accepted = engine.run_batch(
        "acme",
        asset_id,
        {
            "batch_data": [
                {"id": "a", "input_data": RECORD},
                {"id": "b", "input_data": {**RECORD, "tenure": "x"}},
            ],
            "callback_url": receiver.url,
        },
    )
    receiver.wait(2)
    (first_headers, _, first_status), (headers, body, status) = receiver.received[:2]
    assert (first_status, status) == (500, 200)
    assert headers["X-Engine-Event"] == "batch.completed"
    secret = callbacks.company_secret(engine.context, "acme")
    expected = hmac.new(
        secret.encode(), headers["X-Engine-Timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(headers["X-Engine-Signature"], f"sha256={expected}")
    assert first_headers["X-Engine-Delivery-Attempt"] == "1"
    assert headers["X-Engine-Delivery-Attempt"] == "2"
    payload = json.loads(body)
    assert payload["batch_id"] == accepted["batch_id"]
    assert payload["progress"]["successful_records"] == 1
    assert payload["progress"]["failed_records"] == 1
    deadline = time.monotonic() + 10
    while len(engine.batch_status("acme", accepted["batch_id"])["callbacks"]) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    attempts = engine.batch_status("acme", accepted["batch_id"])["callbacks"]
    assert [(a["attempt"], a["status_code"], a["delivered"]) for a in attempts] == [
        (1, 500, False),
        (2, 200, True),
    ]


def test_training_job_announces_to_the_assets_webhooks(
    allowlisted: tuple[Engine, str], receiver: Receiver
) -> None:
    engine, asset_id = allowlisted
    engine.update_asset("acme", asset_id, {"webhooks": [receiver.url]})
    job = engine.submit_training("acme", asset_id)
    receiver.wait(2)
    headers, body, _ = receiver.received[1]
    assert headers["X-Engine-Event"] == "training.completed"
    assert json.loads(body)["training_job_id"] == job["training_job_id"]
    assert (
        json.loads(body)["results"]["model_version"] == "1.1.1"
        or json.loads(body)["status"] == "completed"
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x",
        "http://10.1.2.3/x",
        "http://169.254.169.254/latest",
        "ftp://example.test/x",
    ],
)
def test_internal_or_odd_targets_are_refused_without_an_allowlist(url: str) -> None:
    with pytest.raises(ValidationError):
        callbacks.check_target(url, ())


def test_an_allowlisted_network_permits_its_addresses() -> None:
    callbacks.check_target("http://127.0.0.1:9/x", ("127.0.0.0/8",))
