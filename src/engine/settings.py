"""Settings, read from an environment mapping in one place.

`ENGINE_HOME` holds all state (metadata database, artifacts under `models/`, keys); it defaults to
the working directory. `ENGINE_DATABASE_URL` overrides the SQLite file with any SQLAlchemy URL
(PostgreSQL for several workers sharing one store). `ENGINE_PUBLIC_BASE_URL` is the base of the
URLs put in responses (default: the address each request came in on).
`ENGINE_RATE_LIMIT_PER_MINUTE` (per API key) and `ENGINE_MAX_BODY_BYTES` bound HTTP use;
`ENGINE_DATA_DIRS` (os.pathsep-separated) confines file-based sources to those directories.
Jobs: `ENGINE_TRAINING_WORKERS` training processes (1), `ENGINE_BATCH_WORKERS` batch threads (2),
`ENGINE_JOB_MODE` `process` (training in worker processes) or `thread`;
`ENGINE_CALLBACK_ALLOWLIST` (comma-separated hosts or networks) permits internal callback targets.
Credentials at rest: `ENGINE_SECRET_KEYS` (comma-separated Fernet keys; the first encrypts, all
decrypt, so keys can be rotated), else the key file `ENGINE_SECRET_KEY_FILE` (default
`<home>/secret.key`, created owner-only on first use).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    models_dir: Path
    public_base_url: str | None = None
    execution_log_flush_seconds: float = 0.5
    rate_limit_per_minute: int = 6000
    max_body_bytes: int = 10 * 1024 * 1024
    data_dirs: tuple[Path, ...] | None = None
    callback_allowlist: tuple[str, ...] = ()
    training_workers: int = 1
    batch_workers: int = 2
    job_mode: str = "process"
    secret_keys: tuple[str, ...] = field(default=(), repr=False)
    secret_key_file: Path | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        home = Path(env.get("ENGINE_HOME") or Path.cwd()).resolve()
        return cls(
            home=home,
            database_url=env.get("ENGINE_DATABASE_URL") or f"sqlite:///{home / 'engine.db'}",
            models_dir=Path(env.get("ENGINE_MODELS_DIR") or home / "models"),
            public_base_url=(env.get("ENGINE_PUBLIC_BASE_URL") or "").rstrip("/") or None,
            rate_limit_per_minute=int(
                env.get("ENGINE_RATE_LIMIT_PER_MINUTE") or cls.rate_limit_per_minute
            ),
            max_body_bytes=int(env.get("ENGINE_MAX_BODY_BYTES") or cls.max_body_bytes),
            data_dirs=_paths(env.get("ENGINE_DATA_DIRS")),
            callback_allowlist=tuple(
                h.strip()
                for h in (env.get("ENGINE_CALLBACK_ALLOWLIST") or "").split(",")
                if h.strip()
            ),
            training_workers=int(env.get("ENGINE_TRAINING_WORKERS") or cls.training_workers),
            batch_workers=int(env.get("ENGINE_BATCH_WORKERS") or cls.batch_workers),
            job_mode=env.get("ENGINE_JOB_MODE") or cls.job_mode,
            secret_keys=tuple(
                k.strip() for k in (env.get("ENGINE_SECRET_KEYS") or "").split(",") if k.strip()
            ),
            secret_key_file=Path(env.get("ENGINE_SECRET_KEY_FILE") or home / "secret.key"),
        )

    def serving_defaults(self) -> Settings:
        """What a network-facing server needs: file-based sources confined to data directories
        (`ENGINE_DATA_DIRS`, else `<home>/data`), so tenants cannot read the server's disk."""
        if self.data_dirs is not None:
            return self
        return replace(self, data_dirs=(self.home / "data",))

    @classmethod
    def for_home(cls, home: Path | str) -> Settings:
        return cls.from_environ({"ENGINE_HOME": str(home)})


def _paths(value: str | None) -> tuple[Path, ...] | None:
    if not value:
        return None
    return tuple(Path(p).expanduser().resolve() for p in value.split(os.pathsep) if p)
