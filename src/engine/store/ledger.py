"""The usage ledger: one row per execution (or per consumer within a batch chunk), with what it
cost. Charges are assigned when rows are written, inside one write transaction that holds the
writer's turn while it reads and bumps the consumers' counters for the period, so that several
serving processes writing at once still grant each consumer exactly its free tier."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, case, func, select
from sqlalchemy.dialects import postgresql, sqlite

from engine.domain.pricing import charge, free_share, period_key
from engine.store import schema as t

Row = dict[str, Any]
_STORED = {c.name for c in t.ledger.columns}
_LOOKUP_CHUNK = 500


@contextmanager
def write_transaction(db: Engine) -> Iterator[Connection]:
    """A transaction that holds the write lock from its first statement. SQLite's default
    (deferred) transactions fail outright when they read and then try to write while another
    process wrote in between; `BEGIN IMMEDIATE` makes them wait their turn instead."""
    if db.dialect.name != "sqlite":
        with db.begin() as conn:
            yield conn
        return
    with db.connect() as conn:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()


class LedgerStore:
    def __init__(self, db: Engine) -> None:
        self._db = db
        dialect = postgresql if db.dialect.name == "postgresql" else sqlite
        self._insert = dialect.insert

    def add(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """Write execution records and charge them. Each record carries its pricing snapshot
        (`unit_price_micros`, `currency`, `free_limit`, `free_period`) as it was when it ran.
        A record whose `entry_id` is already stored is skipped (batch chunks re-scored after a
        crash keep deterministic ids), so writing is idempotent. Returns the rows written."""
        if not rows:
            return 0
        with write_transaction(self._db) as conn:
            self._lock_counters(conn)
            fresh = self._not_stored(conn, rows)
            groups: dict[tuple[str, str, str, str], list[Row]] = defaultdict(list)
            for row in sorted(fresh, key=lambda r: str(r["created_at"])):
                entry = dict(row)
                entry["period"] = period_key(str(row["created_at"]), row["free_period"])
                groups[
                    (entry["company"], entry["asset_id"], entry["consumer"], entry["period"])
                ].append(entry)
            counted = self._counters(conn, list(groups))
            written: list[Row] = []
            totals: list[Row] = []
            for key, entries in groups.items():
                used = counted.get(key, 0)
                for entry in entries:
                    free = free_share(used, int(entry["succeeded"]), int(entry["free_limit"]))
                    used += int(entry["succeeded"])
                    entry["free_requests"] = free
                    entry["charge_micros"] = charge(
                        int(entry["succeeded"]) - free, int(entry["unit_price_micros"])
                    )
                    written.append({k: v for k, v in entry.items() if k in _STORED})
                company, asset_id, consumer, period = key
                totals.append(
                    {
                        "company": company,
                        "asset_id": asset_id,
                        "consumer": consumer,
                        "period": period,
                        "succeeded": used,
                    }
                )
            if written:
                conn.execute(t.ledger.insert(), written)
                upsert = self._insert(t.usage_counters)
                conn.execute(
                    upsert.on_conflict_do_update(
                        index_elements=["company", "asset_id", "consumer", "period"],
                        set_={"succeeded": upsert.excluded.succeeded},
                    ),
                    totals,
                )
        return len(written)

    def _lock_counters(self, conn: Connection) -> None:
        """Writers take turns from here to the commit, so counters read are counters current.
        SQLite's BEGIN IMMEDIATE already did that; PostgreSQL needs the table lock."""
        if self._db.dialect.name == "postgresql":
            conn.exec_driver_sql("LOCK TABLE usage_counters IN SHARE ROW EXCLUSIVE MODE")

    @staticmethod
    def _counters(
        conn: Connection, keys: list[tuple[str, str, str, str]]
    ) -> dict[tuple[str, str, str, str], int]:
        """Successful requests already counted for each (company, asset, consumer, period)."""
        found: dict[tuple[str, str, str, str], int] = {}
        c = t.usage_counters.c
        for start in range(0, len(keys), _LOOKUP_CHUNK):
            chunk = keys[start : start + _LOOKUP_CHUNK]
            consumers = {k[2] for k in chunk}
            periods = {k[3] for k in chunk}
            assets = {k[1] for k in chunk}
            query = select(c.company, c.asset_id, c.consumer, c.period, c.succeeded).where(
                c.asset_id.in_(assets), c.consumer.in_(consumers), c.period.in_(periods)
            )
            for company, asset_id, consumer, period, succeeded in conn.execute(query).all():
                found[(company, asset_id, consumer, period)] = int(succeeded)
        return found

    @staticmethod
    def _not_stored(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        # Only ids that can repeat (a batch chunk's, "<batch>:<chunk>:<consumer>") are looked
        # up; ids drawn at random for single executions cannot already be stored.
        ids = [str(r["entry_id"]) for r in rows if ":" in str(r["entry_id"])]
        stored: set[str] = set()
        for start in range(0, len(ids), _LOOKUP_CHUNK):
            chunk = ids[start : start + _LOOKUP_CHUNK]
            stored.update(
                conn.execute(select(t.ledger.c.entry_id).where(t.ledger.c.entry_id.in_(chunk)))
                .scalars()
                .all()
            )
        seen: set[str] = set()
        fresh = []
        for row in rows:
            entry_id = str(row["entry_id"])
            if entry_id not in stored and entry_id not in seen:
                seen.add(entry_id)
                fresh.append(row)
        return fresh

    # reading ----------------------------------------------------------------------------------
    def asset_figures(self, company: str, asset_id: str, since: str) -> Row:
        """Totals over all time and over the window from `since` (the last 30 days)."""
        l = t.ledger.c  # noqa: E741 - the ledger's columns, read many times below
        recent = l.created_at >= since
        served = (l.kind == "execute") & (l.outcome == "success")
        query = select(
            func.coalesce(func.sum(l.requests), 0),
            func.coalesce(func.sum(case((recent, l.requests), else_=0)), 0),
            func.count(func.distinct(l.consumer)),
            func.coalesce(
                func.sum(case((recent & (l.outcome == "server_error"), l.requests), else_=0)), 0
            ),
            func.avg(case((recent & served, l.latency_ms), else_=None)),
            func.coalesce(func.sum(case((recent, l.charge_micros), else_=0)), 0),
            func.coalesce(func.sum(l.charge_micros), 0),
            func.max(l.currency),
        ).where(l.company == company, l.asset_id == asset_id)
        with self._db.connect() as conn:
            found = conn.execute(query).one()
        return {
            "total_requests": int(found[0]),
            "recent_requests": int(found[1]),
            "consumers": int(found[2]),
            "recent_server_errors": int(found[3]),
            "recent_avg_latency_ms": None if found[4] is None else float(found[4]),
            "recent_charge_micros": int(found[5]),
            "total_charge_micros": int(found[6]),
            "currency": found[7],
        }

    def version_figures(self, company: str, asset_id: str) -> dict[str, Row]:
        """Per version: requests and the mean latency of its successful single executions."""
        l = t.ledger.c  # noqa: E741
        served = (l.kind == "execute") & (l.outcome == "success")
        query = (
            select(
                l.version,
                func.sum(l.requests),
                func.avg(case((served, l.latency_ms), else_=None)),
            )
            .where(l.company == company, l.asset_id == asset_id, l.version.is_not(None))
            .group_by(l.version)
        )
        with self._db.connect() as conn:
            return {
                str(v): {
                    "requests": int(n),
                    "avg_latency_ms": None if avg is None else float(avg),
                }
                for v, n, avg in conn.execute(query).all()
            }

    def window(self, company: str, asset_id: str, version: str, since: str) -> Row:
        """What one version did since `since`: the figures automatic rollback judges by —
        requests and those failed by the engine, and the count and mean latency of successful
        single executions (as avg_response_time is everywhere)."""
        l = t.ledger.c  # noqa: E741
        served = (l.kind == "execute") & (l.outcome == "success")
        query = select(
            func.coalesce(func.sum(l.requests), 0),
            func.coalesce(func.sum(case((l.outcome == "server_error", l.requests), else_=0)), 0),
            func.count(case((served, 1), else_=None)),
            func.avg(case((served, l.latency_ms), else_=None)),
        ).where(
            l.company == company,
            l.asset_id == asset_id,
            l.version == version,
            l.created_at >= since,
            l.outcome != "client_error",
        )
        with self._db.connect() as conn:
            found = conn.execute(query).one()
        return {
            "requests": int(found[0]),
            "server_errors": int(found[1]),
            "executions": int(found[2]),
            "avg_latency_ms": None if found[3] is None else float(found[3]),
        }

    def usage(
        self,
        company: str,
        asset_id: str,
        consumer: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> list[Row]:
        """Requests and charges per consumer and pricing period."""
        l = t.ledger.c  # noqa: E741
        conditions = [l.company == company, l.asset_id == asset_id]
        if consumer is not None:
            conditions.append(l.consumer == consumer)
        if since is not None:
            conditions.append(l.created_at >= since)
        if until is not None:
            conditions.append(l.created_at < until)
        query = (
            select(
                l.consumer,
                l.period,
                l.currency,
                func.sum(l.requests),
                func.sum(l.succeeded),
                func.sum(l.free_requests),
                func.sum(l.charge_micros),
            )
            .where(*conditions)
            .group_by(l.consumer, l.period, l.currency)
            .order_by(l.period, l.consumer)
        )
        with self._db.connect() as conn:
            return [
                {
                    "consumer": consumer_,
                    "period": period,
                    "currency": currency,
                    "requests": int(requests),
                    "successful_requests": int(succeeded),
                    "free_requests": int(free),
                    "charge_micros": int(charged),
                }
                for consumer_, period, currency, requests, succeeded, free, charged in conn.execute(
                    query
                ).all()
            ]
