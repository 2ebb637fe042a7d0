"""The engine's seams: small protocols that adapters implement and services depend on."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pyarrow as pa


@dataclass(frozen=True)
class Between:
    """An inclusive range filter on one column; either end may be open."""

    start: Any = None
    end: Any = None


RowFilter = Mapping[str, Any]
"""column → value (equality), list/tuple of values (IN), or `Between` (range); all bound."""


class Connector(Protocol):
    """Read-only access to one data source's tables, returned as Arrow."""

    dialect: str

    def list_tables(self) -> list[str]: ...

    def table_schema(self, table: str) -> pa.Schema: ...

    def read_table(
        self,
        table: str,
        columns: Sequence[str] | None = None,
        where: RowFilter | None = None,
        limit: int | None = None,
    ) -> pa.Table: ...

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table: ...

    def close(self) -> None: ...


class JobRunner(Protocol):
    """Runs jobs outside the request path. Job state is written by the engine code the job runs,
    never by the runner, so every runner behaves the same; `done` hears how the job ended."""

    def run_training(
        self, function: Callable[..., Any], *args: Any, done: Callable[[BaseException | None], None]
    ) -> None: ...

    def run_batch(
        self, function: Callable[..., Any], *args: Any, done: Callable[[BaseException | None], None]
    ) -> None: ...

    def shutdown(self, wait: bool = True) -> None: ...
