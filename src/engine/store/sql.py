"""The metadata store on SQLAlchemy Core: SQLite under ENGINE_HOME by default, any SQLAlchemy
URL (PostgreSQL for several workers) otherwise. Every read and write is scoped by company, so a
company never sees another's rows, whatever id it asks for."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Engine, create_engine, delete, event, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from engine.clock import new_id
from engine.errors import ConflictError, NotFoundError
from engine.store import schema as t
from engine.store.deployments import DeploymentStore
from engine.store.ledger import LedgerStore

Row = dict[str, Any]
_ASSET_SORTS = {
    "created_at": t.assets.c.created_at,
    "updated_at": t.assets.c.updated_at,
    "name": t.assets.c.name,
}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class SqlMetadataStore:
    def __init__(self, url: str) -> None:
        is_sqlite = url.startswith("sqlite")
        self._db: Engine = create_engine(
            url,
            connect_args={"check_same_thread": False} if is_sqlite else {},
            pool_pre_ping=not is_sqlite,
        )
        if is_sqlite:
            event.listen(self._db, "connect", _sqlite_pragmas)
        t.metadata.create_all(self._db)
        self.ledger = LedgerStore(self._db)
        self.deployments = DeploymentStore(self._db)

    def close(self) -> None:
        self._db.dispose()

    # data sources ----------------------------------------------------------------------------
    def add_source(self, row: Row) -> None:
        try:
            with self._db.begin() as conn:
                conn.execute(insert(t.data_sources).values(**row))
        except IntegrityError as exc:
            raise ConflictError(f"A data source '{row['source_id']}' already exists.") from exc

    def get_source(self, company: str, source_id: str) -> Row:
        with self._db.connect() as conn:
            found = (
                conn.execute(
                    select(t.data_sources).where(
                        t.data_sources.c.company == company, t.data_sources.c.source_id == source_id
                    )
                )
                .mappings()
                .first()
            )
        if found is None:
            raise NotFoundError(f"No data source '{source_id}'.")
        return dict(found)

    def list_sources(self, company: str, **filters: Any) -> list[Row]:
        query = select(t.data_sources).where(t.data_sources.c.company == company)
        for key, value in filters.items():
            if value is not None:
                query = query.where(t.data_sources.c[key] == value)
        with self._db.connect() as conn:
            rows = conn.execute(query.order_by(t.data_sources.c.created_at)).mappings().all()
        return [dict(r) for r in rows]

    def every_source(self) -> list[Row]:
        """Every company's sources: for re-sealing credentials under a new key only."""
        with self._db.connect() as conn:
            return [dict(r) for r in conn.execute(select(t.data_sources)).mappings().all()]

    def every_webhook_secret(self) -> list[Row]:
        with self._db.connect() as conn:
            return [dict(r) for r in conn.execute(select(t.company_secrets)).mappings().all()]

    def replace_webhook_secret(self, company: str, stored: str) -> None:
        with self._db.begin() as conn:
            conn.execute(
                update(t.company_secrets)
                .where(t.company_secrets.c.company == company)
                .values(webhook_secret=stored)
            )

    def update_source(self, company: str, source_id: str, values: Mapping[str, Any]) -> None:
        with self._db.begin() as conn:
            conn.execute(
                update(t.data_sources)
                .where(t.data_sources.c.company == company, t.data_sources.c.source_id == source_id)
                .values(**values)
            )

    def assets_of_source(self, company: str, source_id: str) -> list[str]:
        with self._db.connect() as conn:
            rows = conn.execute(
                select(t.asset_sources.c.asset_id).where(
                    t.asset_sources.c.company == company, t.asset_sources.c.source_id == source_id
                )
            ).all()
        return sorted(r[0] for r in rows)

    # assets ----------------------------------------------------------------------------------
    def add_asset(self, row: Row, source_ids: Iterable[str]) -> None:
        with self._db.begin() as conn:
            conn.execute(insert(t.assets).values(**row))
            self._link_sources(conn, row["company"], row["asset_id"], source_ids)

    @staticmethod
    def _link_sources(conn: Any, company: str, asset_id: str, source_ids: Iterable[str]) -> None:
        conn.execute(delete(t.asset_sources).where(t.asset_sources.c.asset_id == asset_id))
        for source_id in dict.fromkeys(source_ids):
            conn.execute(
                insert(t.asset_sources).values(
                    company=company, asset_id=asset_id, source_id=source_id
                )
            )

    def get_asset(self, company: str, asset_id: str) -> Row:
        with self._db.connect() as conn:
            found = (
                conn.execute(
                    select(t.assets).where(
                        t.assets.c.company == company, t.assets.c.asset_id == asset_id
                    )
                )
                .mappings()
                .first()
            )
        if found is None:
            raise NotFoundError(f"No analytics asset '{asset_id}'.")
        return dict(found)

    def list_assets(
        self,
        company: str,
        *,
        status: str | None = None,
        category: str | None = None,
        data_source: str | None = None,
        sort: str = "created_at",
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Row], dict[str, int]]:
        """Return one page of assets and the counts (total and per status) of the whole filter."""
        query = select(t.assets).where(t.assets.c.company == company)
        if category is not None:
            query = query.where(t.assets.c.category == category)
        if data_source is not None:
            linked = select(t.asset_sources.c.asset_id).where(
                t.asset_sources.c.company == company, t.asset_sources.c.source_id == data_source
            )
            query = query.where(t.assets.c.asset_id.in_(linked))
        by_status = query.with_only_columns(t.assets.c.status, func.count()).group_by(
            t.assets.c.status
        )
        if status is not None:
            query = query.where(t.assets.c.status == status)
        total = query.with_only_columns(func.count())
        order = _ASSET_SORTS[sort]
        page = query.order_by(order, t.assets.c.asset_id).limit(limit).offset(offset)
        with self._db.connect() as conn:
            rows = [dict(r) for r in conn.execute(page).mappings().all()]
            counts = {str(s): int(n) for s, n in conn.execute(by_status).all()}
            counts["total"] = int(conn.execute(total).scalar_one())
        return rows, counts

    def source_ids_of_asset(self, company: str, asset_id: str) -> list[str]:
        with self._db.connect() as conn:
            rows = conn.execute(
                select(t.asset_sources.c.source_id).where(
                    t.asset_sources.c.company == company, t.asset_sources.c.asset_id == asset_id
                )
            ).all()
        return [r[0] for r in rows]

    def update_asset(
        self,
        company: str,
        asset_id: str,
        values: Mapping[str, Any],
        source_ids: Iterable[str] | None = None,
    ) -> None:
        with self._db.begin() as conn:
            result = conn.execute(
                update(t.assets)
                .where(t.assets.c.company == company, t.assets.c.asset_id == asset_id)
                .values(**values)
            )
            if result.rowcount == 0:
                raise NotFoundError(f"No analytics asset '{asset_id}'.")
            if source_ids is not None:
                self._link_sources(conn, company, asset_id, source_ids)

    def delete_asset(self, company: str, asset_id: str) -> None:
        with self._db.begin() as conn:
            for table in (
                t.asset_sources,
                t.versions,
                t.jobs,
                t.ledger,
                t.usage_counters,
                t.deployments,
                t.pointer_changes,
            ):
                conn.execute(
                    delete(table).where(table.c.company == company, table.c.asset_id == asset_id)
                )
            conn.execute(
                delete(t.assets).where(
                    t.assets.c.company == company, t.assets.c.asset_id == asset_id
                )
            )

    # versions and the active pointer ---------------------------------------------------------
    def add_version(self, row: Row) -> None:
        try:
            with self._db.begin() as conn:
                conn.execute(insert(t.versions).values(**row))
        except IntegrityError as exc:
            raise ConflictError(f"Version {row['version']} already exists.") from exc

    def list_versions(self, company: str, asset_id: str) -> list[Row]:
        with self._db.connect() as conn:
            rows = (
                conn.execute(
                    select(t.versions)
                    .where(t.versions.c.company == company, t.versions.c.asset_id == asset_id)
                    .order_by(t.versions.c.created_at.desc())
                )
                .mappings()
                .all()
            )
        return [dict(r) for r in rows]

    def get_version(self, company: str, asset_id: str, version: str) -> Row:
        with self._db.connect() as conn:
            found = (
                conn.execute(
                    select(t.versions).where(
                        t.versions.c.company == company,
                        t.versions.c.asset_id == asset_id,
                        t.versions.c.version == version,
                    )
                )
                .mappings()
                .first()
            )
        if found is None:
            raise NotFoundError(f"Asset '{asset_id}' has no version {version}.")
        return dict(found)

    def activate(
        self,
        company: str,
        asset_id: str,
        version: str,
        change: Mapping[str, Any],
        previous_status: str = "deprecated",
    ) -> str | None:
        """Point the asset at `version` and record who moved it, when and why (`change`: at,
        actor, reason, deployment_id?) in one transaction; return the previously active version,
        which gets `previous_status` (deprecated, or failed when a rollback moved away from it)."""
        at = change["at"]
        with self._db.begin() as conn:
            asset = conn.execute(
                select(t.assets.c.active_version).where(
                    t.assets.c.company == company, t.assets.c.asset_id == asset_id
                )
            ).first()
            if asset is None:
                raise NotFoundError(f"No analytics asset '{asset_id}'.")
            previous: str | None = asset[0]
            scoped = (t.versions.c.company == company, t.versions.c.asset_id == asset_id)
            if previous and previous != version:
                conn.execute(
                    update(t.versions)
                    .where(*scoped, t.versions.c.version == previous)
                    .values(status=previous_status)
                )
            conn.execute(
                update(t.versions)
                .where(*scoped, t.versions.c.version == version)
                .values(status="active", deployment_date=at)
            )
            conn.execute(
                update(t.assets)
                .where(t.assets.c.company == company, t.assets.c.asset_id == asset_id)
                .values(active_version=version, updated_at=at)
            )
            conn.execute(
                insert(t.pointer_changes).values(
                    change_id=new_id("chg"),
                    company=company,
                    asset_id=asset_id,
                    from_version=previous,
                    to_version=version,
                    actor=change["actor"],
                    reason=change["reason"],
                    deployment_id=change.get("deployment_id"),
                    at=at,
                )
            )
        return previous

    def pointer_history(self, company: str, asset_id: str) -> list[Row]:
        """Every change of the active pointer, newest first."""
        with self._db.connect() as conn:
            rows = (
                conn.execute(
                    select(t.pointer_changes)
                    .where(
                        t.pointer_changes.c.company == company,
                        t.pointer_changes.c.asset_id == asset_id,
                    )
                    .order_by(t.pointer_changes.c.at.desc(), t.pointer_changes.c.change_id)
                )
                .mappings()
                .all()
            )
        return [dict(r) for r in rows]

    def set_version_status(self, company: str, asset_id: str, version: str, status: str) -> None:
        with self._db.begin() as conn:
            conn.execute(
                update(t.versions)
                .where(
                    t.versions.c.company == company,
                    t.versions.c.asset_id == asset_id,
                    t.versions.c.version == version,
                )
                .values(status=status)
            )

    def active_version(self, company: str, asset_id: str) -> str | None:
        with self._db.connect() as conn:
            found = conn.execute(
                select(t.assets.c.active_version).where(
                    t.assets.c.company == company, t.assets.c.asset_id == asset_id
                )
            ).first()
        if found is None:
            raise NotFoundError(f"No analytics asset '{asset_id}'.")
        active: str | None = found[0]
        return active

    # jobs ------------------------------------------------------------------------------------
    def add_job(self, row: Row) -> None:
        with self._db.begin() as conn:
            conn.execute(insert(t.jobs).values(**row))

    def update_job(self, job_id: str, values: Mapping[str, Any]) -> None:
        with self._db.begin() as conn:
            conn.execute(update(t.jobs).where(t.jobs.c.job_id == job_id).values(**values))

    def get_job(self, company: str, job_id: str, kind: str | None = None) -> Row:
        query = select(t.jobs).where(t.jobs.c.company == company, t.jobs.c.job_id == job_id)
        if kind is not None:
            query = query.where(t.jobs.c.kind == kind)
        with self._db.connect() as conn:
            found = conn.execute(query).mappings().first()
        if found is None:
            raise NotFoundError(f"No {kind or 'job'} '{job_id}'.")
        return dict(found)

    # API keys ----------------------------------------------------------------------------------
    def add_key(self, row: Row) -> None:
        with self._db.begin() as conn:
            conn.execute(insert(t.api_keys).values(**row))

    def key_by_hash(self, key_hash: str) -> Row | None:
        with self._db.connect() as conn:
            found = (
                conn.execute(select(t.api_keys).where(t.api_keys.c.key_hash == key_hash))
                .mappings()
                .first()
            )
        return None if found is None else dict(found)

    def list_keys(self, company: str | None = None) -> list[Row]:
        query = select(t.api_keys).order_by(t.api_keys.c.created_at)
        if company is not None:
            query = query.where(t.api_keys.c.company == company)
        with self._db.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings().all()]

    def revoke_key(self, key_id: str, at: str) -> bool:
        with self._db.begin() as conn:
            result = conn.execute(
                update(t.api_keys)
                .where(t.api_keys.c.key_id == key_id, t.api_keys.c.revoked_at.is_(None))
                .values(revoked_at=at)
            )
        return bool(result.rowcount)

    # job runs (who runs a job, for recovery) ---------------------------------------------------
    def add_job_run(self, row: Row) -> None:
        with self._db.begin() as conn:
            conn.execute(insert(t.job_runs).values(**row))

    def get_job_run(self, job_id: str) -> Row | None:
        with self._db.connect() as conn:
            found = (
                conn.execute(select(t.job_runs).where(t.job_runs.c.job_id == job_id))
                .mappings()
                .first()
            )
        return None if found is None else dict(found)

    def update_job_run(self, job_id: str, values: Mapping[str, Any]) -> None:
        with self._db.begin() as conn:
            conn.execute(update(t.job_runs).where(t.job_runs.c.job_id == job_id).values(**values))

    def unfinished_jobs(self) -> list[Row]:
        """Jobs of every company still queued or running, with who runs them."""
        query = (
            select(t.jobs, t.job_runs.c.worker, t.job_runs.c.request, t.job_runs.c.callback_urls)
            .join(t.job_runs, t.job_runs.c.job_id == t.jobs.c.job_id)
            .where(t.jobs.c.status.in_(["queued", "running", "processing", "cancelling"]))
        )
        with self._db.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings().all()]

    def list_jobs(self, company: str, kind: str | None = None, limit: int = 50) -> list[Row]:
        query = (
            select(t.jobs).where(t.jobs.c.company == company).order_by(t.jobs.c.started_at.desc())
        )
        if kind is not None:
            query = query.where(t.jobs.c.kind == kind)
        with self._db.connect() as conn:
            return [dict(r) for r in conn.execute(query.limit(limit)).mappings().all()]

    def training_durations(self, company: str, asset_id: str, limit: int = 5) -> list[Row]:
        query = (
            select(t.jobs.c.started_at, t.jobs.c.completed_at)
            .where(
                t.jobs.c.company == company,
                t.jobs.c.asset_id == asset_id,
                t.jobs.c.kind == "training",
                t.jobs.c.status == "completed",
            )
            .order_by(t.jobs.c.started_at.desc())
            .limit(limit)
        )
        with self._db.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings().all()]

    # deliveries and webhook secrets --------------------------------------------------------------
    def add_delivery(self, row: Row) -> None:
        with self._db.begin() as conn:
            conn.execute(insert(t.deliveries).values(**row))

    def list_deliveries(self, company: str, job_id: str) -> list[Row]:
        with self._db.connect() as conn:
            rows = (
                conn.execute(
                    select(t.deliveries)
                    .where(t.deliveries.c.company == company, t.deliveries.c.job_id == job_id)
                    .order_by(t.deliveries.c.at, t.deliveries.c.attempt)
                )
                .mappings()
                .all()
            )
        return [dict(r) for r in rows]

    def webhook_secret(self, company: str, new_secret: str, at: str) -> str:
        """The company's signing secret; `new_secret` becomes it if the company has none yet."""
        query = select(t.company_secrets.c.webhook_secret).where(
            t.company_secrets.c.company == company
        )
        with self._db.connect() as conn:
            found = conn.execute(query).first()
        if found is None:
            try:
                with self._db.begin() as conn:
                    conn.execute(
                        insert(t.company_secrets).values(
                            company=company, webhook_secret=new_secret, created_at=at
                        )
                    )
            except IntegrityError:  # another process created it first: use theirs
                pass
            with self._db.connect() as conn:
                found = conn.execute(query).first()
        assert found is not None
        return str(found[0])

    def claim_job_run(self, job_id: str, previous_worker: str, worker: str, at: str) -> bool:
        """Take over a job from a dead worker; only one claimant wins."""
        with self._db.begin() as conn:
            result = conn.execute(
                update(t.job_runs)
                .where(t.job_runs.c.job_id == job_id, t.job_runs.c.worker == previous_worker)
                .values(worker=worker, heartbeat_at=at)
            )
        return bool(result.rowcount)
