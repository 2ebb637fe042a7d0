"""A warehouse password, once given, is never seen again: not in the metadata database (nor its
write-ahead log), not in any file under ENGINE_HOME, not in the logs at DEBUG, not in any HTTP
response of a whole session (connect, list, details, test, train, execute, a failed connect), not
in the CLI's output. And validation queries that would write are refused before they are sent."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from click.testing import CliRunner

from engine.api import Engine
from engine.cli.app import app as cli_app
from engine.http.app import create_app
from engine.service import keys
from engine.settings import Settings
from tests.conftest import SAMPLE_RECORD, SMALL_FEATURES, asset_body
from tests.e2e.http_server import running

PASSWORD = "Pl41n-T3xt-P4ssw0rd-9c1e"


def test_the_password_never_appears_again(
    tmp_path: Path,
    telco_frame: pd.DataFrame,
    snowflake_source_config: dict[str, Any],
    load_snowflake_table: Callable[[str, pd.DataFrame], None],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    load_snowflake_table(
        "customers", telco_frame.iloc[:800][["customerID", *SMALL_FEATURES, "Churn"]]
    )
    config = {**snowflake_source_config, "password": PASSWORD}
    home = tmp_path / "home"
    engine = Engine.open(Settings.for_home(home))
    key = keys.create_key(engine.context, "acme")["api_key"]
    seen: list[str] = []

    with (
        running(create_app(engine)) as base,
        httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=120) as client,
    ):

        def call(method: str, path: str, body: Any = None) -> httpx.Response:
            response = client.request(method, path, json=body)
            seen.append(response.text)
            return response

        connected = call(
            "POST",
            "/analytics/data-sources",
            {
                "name": "Snowflake",
                "type": "snowflake",
                "connection_config": config,
                "validation_query": "SELECT COUNT(*) FROM customers",
            },
        )
        assert connected.status_code == 201, connected.text
        source = connected.json()["data"]
        assert source["status"] == "connected"
        assert source["security"]["encrypted"] is True
        assert "password" in source["security"]["encrypted_fields"]
        source_id = source["source_id"]
        call("GET", "/analytics/data-sources")
        call("GET", "/analytics/data-sources?type=snowflake")
        assert call("POST", f"/analytics/data-sources/{source_id}/test").status_code == 200
        created = call("POST", "/analytics/assets", asset_body(source_id))
        assert created.status_code == 201, created.text
        asset_id = created.json()["data"]["asset_id"]
        job = call("POST", f"/analytics/assets/{asset_id}/train", {}).json()["data"]
        deadline = time.monotonic() + 180
        while (
            status := call("GET", f"/analytics/training-jobs/{job['training_job_id']}").json()[
                "data"
            ]
        )["status"] not in ("completed", "failed"):
            assert time.monotonic() < deadline
            time.sleep(0.3)
        assert status["status"] == "completed", status
        executed = call(
            "POST",
            f"/analytics/assets/{asset_id}/execute",
            {"input_data": {"customer_id": telco_frame["customerID"][0]}},
        )
        assert executed.status_code == 200, executed.text
        call("POST", f"/analytics/assets/{asset_id}/execute", {"input_data": SAMPLE_RECORD})
        call("GET", f"/analytics/assets/{asset_id}")
        wrong_port = call(
            "POST",
            "/analytics/data-sources",
            {"name": "Wrong port", "type": "snowflake", "connection_config": {**config, "port": 9}},
        )
        assert wrong_port.json()["data"]["status"] == "failed"
        assert wrong_port.json()["data"]["connection_test"]["reason"]

    monkeypatch.setenv("ENGINE_HOME", str(home))
    listed = CliRunner().invoke(cli_app, ["sources", "list", "--company", "acme"])
    assert listed.exit_code == 0, listed.output
    seen.append(listed.output)
    engine.close()

    assert not [text for text in seen if PASSWORD in text]
    assert PASSWORD not in caplog.text
    for path in home.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path
    assert (home / "engine.db").is_file()


@pytest.mark.parametrize(
    "statement",
    [
        "DROP TABLE guarded",
        "DELETE FROM guarded",
        "SELECT 1; DROP TABLE guarded",
        "CREATE TABLE copy_of_guarded AS SELECT * FROM guarded",
    ],
)
def test_a_writing_validation_query_is_refused_before_it_is_sent(
    engine: Engine,
    statement: str,
    snowflake_source_config: dict[str, Any],
    load_snowflake_table: Callable[[str, pd.DataFrame], None],
    snowflake_client: Any,
) -> None:
    from engine.errors import UnsafeQueryError

    load_snowflake_table("guarded", pd.DataFrame({"n": [1, 2, 3]}))
    with pytest.raises(UnsafeQueryError):
        engine.connect_source(
            "acme",
            {
                "name": "Guarded",
                "type": "snowflake",
                "connection_config": snowflake_source_config,
                "validation_query": statement,
            },
        )
    count = snowflake_client.cursor().execute('SELECT COUNT(*) FROM "guarded"').fetchone()
    assert count == (3,)
    assert engine.list_sources("acme")[0] == []
