"""The usage ledger on the real metadata store: charges with a free tier per consumer and period,
exact amounts, idempotent writes, several writers at once, and the figures shown on assets and
versions recomputed independently from the ledger's rows."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select

from engine.api import Engine
from engine.errors import NotFoundError, ValidationError
from engine.store import SqlMetadataStore
from engine.store import schema as t
from tests.conftest import SAMPLE_RECORD


class Clock:
    def __init__(self, start: datetime) -> None:
        self.moment = start

    def __call__(self) -> datetime:
        return self.moment


def ledger_rows(engine: Engine, asset_id: str) -> pd.DataFrame:
    engine.context.executions.flush()
    with engine.context.store._db.connect() as conn:
        rows = conn.execute(select(t.ledger).where(t.ledger.c.asset_id == asset_id)).mappings()
        return pd.DataFrame([dict(r) for r in rows])


@pytest.fixture
def priced(trained: tuple[Engine, str]) -> tuple[Engine, str, Clock]:
    engine, asset_id = trained
    engine.update_asset(
        "acme",
        asset_id,
        {
            "pricing": {
                "price": 0.35,
                "currency": "EUR",
                "free_tier": {"requests": 3, "period": "monthly"},
            }
        },
    )
    clock = Clock(datetime(2026, 10, 30, 12, 0, tzinfo=UTC))
    engine.context.clock = clock
    return engine, asset_id, clock


def run(engine: Engine, asset_id: str, customer: str, times: int) -> None:
    for _ in range(times):
        engine.execute("acme", asset_id, {"input_data": {"customer_id": customer, **SAMPLE_RECORD}})


def test_free_tier_and_charges_over_two_periods_for_two_consumers(
    priced: tuple[Engine, str, Clock],
) -> None:
    engine, asset_id, clock = priced
    run(engine, asset_id, "alice", 5)  # October: 3 free, 2 charged
    run(engine, asset_id, "bob", 2)  # October: all free
    with pytest.raises(ValidationError):  # refused input is recorded, never charged
        engine.execute(
            "acme",
            asset_id,
            {"input_data": {**SAMPLE_RECORD, "customer_id": "alice", "tenure": "many"}},
        )
    clock.moment = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    run(engine, asset_id, "alice", 4)  # November: the free tier starts again: 1 charged
    engine.execute_batch(  # bob in November: 3 free + 2 charged, in one batch
        "acme",
        asset_id,
        [{"customer_id": "bob", "input_data": dict(SAMPLE_RECORD)} for _ in range(5)],
    )

    report = engine.usage("acme", asset_id)
    lines = {(u["consumer"], u["period"]): u for u in report["usage"]}
    assert {key: (u["requests"], u["free_requests"], u["charges"]) for key, u in lines.items()} == {
        ("alice", "2026-10"): (6, 3, 0.70),
        ("bob", "2026-10"): (2, 2, 0.0),
        ("alice", "2026-11"): (4, 3, 0.35),
        ("bob", "2026-11"): (5, 3, 0.70),
    }
    assert lines[("alice", "2026-10")]["successful_requests"] == 5
    assert lines[("alice", "2026-10")]["billable_requests"] == 2
    assert {u["currency"] for u in report["usage"]} == {"EUR"}
    assert report["totals"]["charges"] == {"EUR": 1.75}
    assert report["totals"]["billable_requests"] == 5

    only_alice = engine.usage("acme", asset_id, consumer="alice", since="2026-11-01")
    assert [(u["period"], u["charges"]) for u in only_alice["usage"]] == [("2026-11", 0.35)]
    with pytest.raises(ValidationError) as caught:
        engine.usage("acme", asset_id, since="last tuesday")
    assert caught.value.details[0].field == "since"


def test_amounts_are_exact_over_many_requests(priced: tuple[Engine, str, Clock]) -> None:
    engine, asset_id, _ = priced
    # 0.1 + 0.2 != 0.3 in floats; the ledger keeps millionths as integers
    engine.update_asset("acme", asset_id, {"pricing": {"price": 0.1, "free_tier": {"requests": 0}}})
    engine.context.models.evict_asset(asset_id)
    engine.execute_batch(
        "acme",
        asset_id,
        [{"customer_id": "carol", "input_data": dict(SAMPLE_RECORD)} for _ in range(30)],
    )
    rows = ledger_rows(engine, asset_id)
    assert int(rows["charge_micros"].sum()) == 3_000_000
    assert engine.usage("acme", asset_id)["totals"]["charges"] == {"EUR": 3.0}


def test_writes_are_idempotent_and_exact_with_two_writers(trained: tuple[Engine, str]) -> None:
    """Two stores (as two serving processes would have) charge one consumer at once: the free
    tier is granted exactly once in total, and a row written twice is stored once."""
    engine, asset_id = trained
    url = engine.context.settings.database_url
    stores = [SqlMetadataStore(url), SqlMetadataStore(url)]

    def row(i: int, writer: int) -> dict[str, Any]:
        return {
            "entry_id": f"batch_x:{writer}:{i}",  # a chunk id, as batch jobs write
            "company": "acme",
            "asset_id": asset_id,
            "version": "1.0.0",
            "caller": "key_x",
            "consumer": "dave",
            "kind": "execute",
            "outcome": "success",
            "error_code": None,
            "latency_ms": 1.0,
            "requests": 1,
            "succeeded": 1,
            "unit_price_micros": 2_000_000,
            "currency": "USD",
            "free_limit": 25,
            "free_period": "daily",
            "created_at": "2026-11-27T10:00:00.000Z",
        }

    def write(writer: int) -> None:
        for start in range(0, 100, 10):
            stores[writer].ledger.add([row(i, writer) for i in range(start, start + 10)])

    threads = [threading.Thread(target=write, args=(w,)) for w in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert stores[0].ledger.add([row(5, 0), row(5, 0)]) == 0  # already stored

    rows = ledger_rows(engine, asset_id)
    assert len(rows) == 200
    assert int(rows["free_requests"].sum()) == 25
    assert int(rows["charge_micros"].sum()) == 175 * 2_000_000
    for store in stores:
        store.close()


def test_asset_and_version_figures_equal_a_recomputation_from_the_ledger(
    priced: tuple[Engine, str, Clock],
) -> None:
    engine, asset_id, clock = priced
    run(engine, asset_id, "alice", 4)
    clock.moment += timedelta(days=40)  # older than the 30-day window from here on
    run(engine, asset_id, "bob", 3)
    run(engine, asset_id, "erin", 2)
    engine.execute_batch(
        "acme",
        asset_id,
        [
            {"customer_id": "erin", "input_data": dict(SAMPLE_RECORD)},
            {"customer_id": "frank", "input_data": {"tenure": "many"}},
        ],
    )
    with pytest.raises(NotFoundError):  # no such customer to look up: the caller's error
        engine.execute("acme", asset_id, {"input_data": {"customer_id": "nobody"}})

    rows = ledger_rows(engine, asset_id)
    since = (clock.moment - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    recent = rows[rows["created_at"] >= since]
    served = recent[(recent["kind"] == "execute") & (recent["outcome"] == "success")]
    consumers = rows["consumer"].nunique()

    details = engine.get_asset("acme", asset_id)
    performance = details["performance_metrics"]
    assert performance["requests_last_30d"] == int(recent["requests"].sum())
    assert performance["avg_response_time"] == pytest.approx(served["latency_ms"].mean(), abs=1e-3)
    server_failed = int(recent.loc[recent["outcome"] == "server_error", "requests"].sum())
    assert performance["uptime_percentage"] == pytest.approx(
        100 * (1 - server_failed / recent["requests"].sum()), abs=1e-3
    )
    assert details["usage_statistics"] == {
        "total_requests": int(rows["requests"].sum()),
        "requests_last_30d": int(recent["requests"].sum()),
        "unique_customers": consumers,
        "avg_requests_per_customer": round(rows["requests"].sum() / consumers, 3),
    }
    assert details["revenue_metrics"]["monthly_revenue"] == pytest.approx(
        recent["charge_micros"].sum() / 1e6
    )
    assert details["revenue_metrics"]["total_revenue"] == pytest.approx(
        rows["charge_micros"].sum() / 1e6
    )
    assert details["revenue_metrics"]["total_customers"] == consumers
    listed = engine.list_assets("acme")[0][0]
    assert listed["revenue_metrics"] == {
        "monthly_revenue": details["revenue_metrics"]["monthly_revenue"],
        "total_customers": consumers,
        "currency": "EUR",
    }

    items, _ = engine.list_versions("acme", asset_id)
    mine = rows[rows["version"] == items[0]["version"]]
    mine_served = mine[(mine["kind"] == "execute") & (mine["outcome"] == "success")]
    assert items[0]["performance_metrics"]["requests"] == int(mine["requests"].sum())
    assert items[0]["performance_metrics"]["avg_response_time"] == pytest.approx(
        mine_served["latency_ms"].mean(), abs=1e-3
    )
    assert set(rows["outcome"]) == {"success", "partial", "client_error"}


def wait_batch(engine: Engine, batch_id: str) -> dict[str, Any]:
    import time

    deadline = time.monotonic() + 120
    while (status := engine.batch_status("acme", batch_id))["status"] not in (
        "completed",
        "failed",
        "cancelled",
    ):
        assert time.monotonic() < deadline, status
        time.sleep(0.1)
    return status


def test_batch_jobs_are_metered_per_consumer_and_per_table(
    priced: tuple[Engine, str, Clock],
) -> None:
    engine, asset_id, _ = priced
    records = [
        {"customer_id": customer, "input_data": dict(SAMPLE_RECORD)}
        for customer in ["gina"] * 4 + ["hank"] * 2
    ]
    records.append({"input_data": {**SAMPLE_RECORD, "tenure": "many"}})  # the caller's, failed
    batch = engine.run_batch("acme", asset_id, {"batch_data": records}, caller="key_batch")
    assert wait_batch(engine, batch["batch_id"])["status"] == "completed"
    table = engine.run_batch(
        "acme", asset_id, {"source_table": {"table": "customers"}}, caller="key_batch"
    )
    assert wait_batch(engine, table["batch_id"])["status"] == "completed"
    engine.context.executions.flush()

    lines = {u["consumer"]: u for u in engine.usage("acme", asset_id)["usage"]}
    assert (lines["gina"]["requests"], lines["gina"]["charges"]) == (4, 0.35)
    assert (lines["hank"]["requests"], lines["hank"]["charges"]) == (2, 0.0)
    # The table's 1,200 rows and the failed record are the caller's own usage
    assert lines["key_batch"]["requests"] == 1201
    assert lines["key_batch"]["successful_requests"] == 1200
    assert lines["key_batch"]["charges"] == pytest.approx((1200 - 3) * 0.35)
    rows = ledger_rows(engine, asset_id)
    assert set(rows["kind"]) == {"batch"}
    assert rows["entry_id"].str.startswith(batch["batch_id"]).sum() == 3
