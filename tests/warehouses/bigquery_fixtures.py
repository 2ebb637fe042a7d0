"""BigQuery emulator fixtures: bqemulator on random loopback ports (REST + Storage Read gRPC),
tables loaded with the real client, and a source `connection_config` that points at it.

The config alone is enough for the engine to reach the emulator (an `http://` api_endpoint
means anonymous credentials and an insecure gRPC channel), so a server in another process can
use it as it is.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pytest

from tests.warehouses.emulator_process import LAUNCHERS, start_launcher, stop

BIGQUERY_PROJECT = "test-project"

__all__ = [
    "bigquery_client",
    "bigquery_dataset",
    "bigquery_emulator",
    "bigquery_source_config",
    "load_bigquery_frame",
]


@dataclass(frozen=True)
class BigQueryEmulator:
    rest_url: str
    grpc_address: str


@pytest.fixture(scope="session")
def bigquery_emulator() -> Iterator[BigQueryEmulator]:
    with pytest.MonkeyPatch.context() as env:
        # Belt and braces: nothing in these tests may look for cloud credentials or probe the
        # metadata server; every client is given anonymous credentials explicitly.
        env.setenv("NO_GCE_CHECK", "True")
        env.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
        env.delenv("BIGQUERY_EMULATOR_HOST", raising=False)
        proc, ready = start_launcher(
            [sys.executable, str(LAUNCHERS / "bqemu_launch.py"), "--project", BIGQUERY_PROJECT],
            r"BQEMU_READY rest=(\d+) grpc=(\d+)",
            timeout=90,
        )
        try:
            yield BigQueryEmulator(f"http://127.0.0.1:{ready[1]}", f"127.0.0.1:{ready[2]}")
        finally:
            stop(proc)


@pytest.fixture(scope="session")
def bigquery_client(bigquery_emulator: BigQueryEmulator) -> Iterator[Any]:
    """The real client library, for setting up and checking tables beside the engine."""
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    client = bigquery.Client(
        project=BIGQUERY_PROJECT,
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=bigquery_emulator.rest_url),
    )
    yield client
    client.close()


@pytest.fixture
def bigquery_dataset(bigquery_client: Any) -> Iterator[str]:
    """A fresh, empty dataset for one test."""
    name = f"ds_{uuid.uuid4().hex[:10]}"
    bigquery_client.create_dataset(name)
    yield name
    bigquery_client.delete_dataset(name, delete_contents=True, not_found_ok=True)


@pytest.fixture
def load_bigquery_frame(
    bigquery_client: Any, bigquery_dataset: str
) -> Callable[[str, pd.DataFrame], None]:
    """load(table, frame): a table of the test's dataset, loaded with the client library."""
    from google.cloud import bigquery

    def load(table: str, frame: pd.DataFrame) -> None:
        job = bigquery_client.load_table_from_dataframe(
            frame,
            f"{bigquery_dataset}.{table}",
            job_config=bigquery.LoadJobConfig(write_disposition="WRITE_TRUNCATE"),
        )
        job.result()

    return load


def bigquery_config(emulator: BigQueryEmulator, dataset: str, **options: Any) -> dict[str, Any]:
    """A source's connection_config for `dataset` on the emulator."""
    return {
        "project": BIGQUERY_PROJECT,
        "dataset": dataset,
        "api_endpoint": emulator.rest_url,
        "storage_api_endpoint": emulator.grpc_address,
        **options,
    }


@pytest.fixture
def bigquery_source_config(
    bigquery_emulator: BigQueryEmulator, bigquery_dataset: str
) -> dict[str, Any]:
    return bigquery_config(bigquery_emulator, bigquery_dataset)
