"""`python -m engine keys create` and `python -m engine serve` as a user runs them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_with_a_key_made_by_the_cli_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = {**os.environ, "ENGINE_HOME": str(tmp_path)}
    created = subprocess.run(
        [sys.executable, "-m", "engine", "keys", "create", "--company", "acme"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    key = json.loads(created.stdout)["api_key"]
    assert "cannot be shown again" in created.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "engine", "keys", "list"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert key not in listed.stdout
    assert json.loads(listed.stdout)[0]["company"] == "acme"
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "engine", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{port}/analytics/assets", headers={"X-API-Key": key}
                )
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert response.status_code == 200
        assert response.json() == {
            "data": [],
            "meta": {"total": 0, "draft": 0, "published": 0, "archived": 0},
        }
        assert httpx.get(f"http://127.0.0.1:{port}/analytics/assets").status_code == 401
    finally:
        server.terminate()
        server.wait(timeout=30)
    log = server.stderr.read() if server.stderr else ""
    assert "Finished server process" in log  # a graceful shutdown, not a kill
