"""Deployments, the serving processes that take part in them, and their acknowledgements.

A deployment moves through phases (warming → switching → watching → done) while its status is
what the contract shows (deploying, active, rolled_back, failed). Serving processes register
with a heartbeat; each acknowledges a deployment's phases, so the coordinator knows when every
live process has warmed the new version and later when each has switched to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from engine.errors import NotFoundError
from engine.store import schema as t

Row = dict[str, Any]


class DeploymentStore:
    def __init__(self, db: Engine) -> None:
        self._db = db

    def add(self, row: Mapping[str, Any]) -> None:
        with self._db.begin() as conn:
            conn.execute(insert(t.deployments).values(**row))

    def get(self, company: str, deployment_id: str) -> Row:
        with self._db.connect() as conn:
            found = (
                conn.execute(
                    select(t.deployments).where(
                        t.deployments.c.company == company,
                        t.deployments.c.deployment_id == deployment_id,
                    )
                )
                .mappings()
                .first()
            )
        if found is None:
            raise NotFoundError(f"No deployment '{deployment_id}'.")
        return dict(found)

    def get_any(self, deployment_id: str) -> Row:
        """A deployment whatever its company: for the engine's own background work only."""
        with self._db.connect() as conn:
            found = (
                conn.execute(
                    select(t.deployments).where(t.deployments.c.deployment_id == deployment_id)
                )
                .mappings()
                .first()
            )
        if found is None:
            raise NotFoundError(f"No deployment '{deployment_id}'.")
        return dict(found)

    def claim(self, deployment_id: str, previous: str, coordinator: str) -> bool:
        """Take over coordinating a deployment from a dead process; only one claimant wins. A
        rollback it left half done is redone from the watch."""
        with self._db.begin() as conn:
            claimed = conn.execute(
                update(t.deployments)
                .where(
                    t.deployments.c.deployment_id == deployment_id,
                    t.deployments.c.coordinator == previous,
                )
                .values(coordinator=coordinator)
            ).rowcount
            if claimed:
                conn.execute(
                    update(t.deployments)
                    .where(
                        t.deployments.c.deployment_id == deployment_id,
                        t.deployments.c.phase == "rolling_back",
                    )
                    .values(phase="watching")
                )
        return bool(claimed)

    def for_asset(self, company: str, asset_id: str, limit: int = 50) -> list[Row]:
        with self._db.connect() as conn:
            rows = (
                conn.execute(
                    select(t.deployments)
                    .where(t.deployments.c.company == company, t.deployments.c.asset_id == asset_id)
                    .order_by(t.deployments.c.started_at.desc())
                    .limit(limit)
                )
                .mappings()
                .all()
            )
        return [dict(r) for r in rows]

    def in_progress(self) -> list[Row]:
        """Deployments a serving process may need to act on (warm, or switch to)."""
        with self._db.connect() as conn:
            rows = (
                conn.execute(
                    select(t.deployments).where(t.deployments.c.phase.in_(("warming", "switching")))
                )
                .mappings()
                .all()
            )
        return [dict(r) for r in rows]

    def unfinished(self) -> list[Row]:
        with self._db.connect() as conn:
            rows = (
                conn.execute(select(t.deployments).where(t.deployments.c.phase != "done"))
                .mappings()
                .all()
            )
        return [dict(r) for r in rows]

    def update(
        self, deployment_id: str, values: Mapping[str, Any], *, phase: str | None = None
    ) -> bool:
        """Update a deployment; with `phase`, only if it is still in that phase (so a rollback
        and the watch ending at the same moment cannot both win)."""
        query = update(t.deployments).where(t.deployments.c.deployment_id == deployment_id)
        if phase is not None:
            query = query.where(t.deployments.c.phase == phase)
        with self._db.begin() as conn:
            return bool(conn.execute(query.values(**values)).rowcount)

    def latest_watching(self, company: str, asset_id: str, version: str) -> Row | None:
        with self._db.connect() as conn:
            found = (
                conn.execute(
                    select(t.deployments)
                    .where(
                        t.deployments.c.company == company,
                        t.deployments.c.asset_id == asset_id,
                        t.deployments.c.version == version,
                        t.deployments.c.phase.in_(("switching", "watching")),
                    )
                    .order_by(t.deployments.c.started_at.desc())
                )
                .mappings()
                .first()
            )
        return None if found is None else dict(found)

    # acknowledgements ------------------------------------------------------------------------
    def acknowledge(
        self, deployment_id: str, worker: str, phase: str, at: str, error: str | None = None
    ) -> None:
        try:
            with self._db.begin() as conn:
                conn.execute(
                    insert(t.deployment_acks).values(
                        deployment_id=deployment_id, worker=worker, phase=phase, error=error, at=at
                    )
                )
        except IntegrityError:  # acknowledged already
            pass

    def acks(self, deployment_id: str, phase: str) -> dict[str, str | None]:
        """worker → error (None when the phase went well) for one phase of a deployment."""
        with self._db.connect() as conn:
            rows = conn.execute(
                select(t.deployment_acks.c.worker, t.deployment_acks.c.error).where(
                    t.deployment_acks.c.deployment_id == deployment_id,
                    t.deployment_acks.c.phase == phase,
                )
            ).all()
        return {str(w): e for w, e in rows}

    # serving processes -----------------------------------------------------------------------
    def heartbeat(self, worker: str, at: str) -> None:
        with self._db.begin() as conn:
            updated = conn.execute(
                update(t.serving_processes)
                .where(t.serving_processes.c.worker == worker)
                .values(heartbeat_at=at)
            ).rowcount
            if not updated:
                conn.execute(
                    insert(t.serving_processes).values(
                        worker=worker, started_at=at, heartbeat_at=at
                    )
                )

    def live_processes(self, since: str) -> list[str]:
        with self._db.connect() as conn:
            return [
                str(w)
                for w in conn.execute(
                    select(t.serving_processes.c.worker).where(
                        t.serving_processes.c.heartbeat_at >= since
                    )
                ).scalars()
            ]

    def leave(self, worker: str) -> None:
        with self._db.begin() as conn:
            conn.execute(delete(t.serving_processes).where(t.serving_processes.c.worker == worker))
