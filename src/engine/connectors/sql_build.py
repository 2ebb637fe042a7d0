"""SELECT statements built as syntax trees: identifiers quoted per dialect, values bound."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from engine.errors import ValidationError
from engine.ports import Between, RowFilter


@dataclass(frozen=True)
class Binding:
    """The value bound to one `?` placeholder, and the column it is compared with (a driver
    with strict parameter types types the value after the column)."""

    column: str
    value: Any


def select_statement(
    table: str,
    columns: Sequence[str] | None,
    where: RowFilter | None,
    limit: int | None,
    dialect: str,
) -> tuple[str, list[Any]]:
    """Return (sql, params) with `?` placeholders for every filter value."""
    sql, bindings = bound_select(table, columns, where, limit, dialect)
    return sql, [b.value for b in bindings]


def bound_select(
    table: str,
    columns: Sequence[str] | None,
    where: RowFilter | None,
    limit: int | None,
    dialect: str,
    schema: str | None = None,
) -> tuple[str, list[Binding]]:
    """Return (sql, bindings) in placeholder order; `schema` qualifies the table name."""
    projection: list[exp.Expression] = (
        [exp.column(c, quoted=True) for c in columns] if columns else [exp.Star()]
    )
    source = (
        exp.table_(table, db=schema, quoted=True)
        if schema is not None
        else exp.table_(table, quoted=True)
    )
    query = exp.select(*projection).from_(source)
    bindings: list[Binding] = []
    for column, value in (where or {}).items():
        query = query.where(_condition(column, value, bindings))
    if limit is not None:
        if limit < 0:
            raise ValidationError.for_field("limit", "must be 0 or more")
        query = query.limit(int(limit))
    return query.sql(dialect=dialect), bindings


def _condition(column: str, value: Any, bindings: list[Binding]) -> exp.Expression:
    col = exp.column(column, quoted=True)
    if isinstance(value, Between):
        parts: list[exp.Expression] = []
        if value.start is not None:
            bindings.append(Binding(column, value.start))
            parts.append(exp.GTE(this=col.copy(), expression=exp.Placeholder()))
        if value.end is not None:
            bindings.append(Binding(column, value.end))
            parts.append(exp.LTE(this=col.copy(), expression=exp.Placeholder()))
        if not parts:
            return exp.true()
        return exp.and_(*parts)  # type: ignore[return-value]
    if isinstance(value, (list, tuple, set)):
        values = list(value)
        if not values:
            return exp.false()
        bindings.extend(Binding(column, v) for v in values)
        return col.isin(*[exp.Placeholder() for _ in values])
    if value is None:
        return exp.Is(this=col, expression=exp.null())
    bindings.append(Binding(column, value))
    return exp.EQ(this=col, expression=exp.Placeholder())
