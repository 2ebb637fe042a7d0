"""SELECT statements built as syntax trees: identifiers quoted per dialect, values bound."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlglot import exp

from engine.errors import ValidationError
from engine.ports import Between, RowFilter


def select_statement(
    table: str,
    columns: Sequence[str] | None,
    where: RowFilter | None,
    limit: int | None,
    dialect: str,
) -> tuple[str, list[Any]]:
    """Return (sql, params) with `?` placeholders for every filter value."""
    projection: list[exp.Expression] = (
        [exp.column(c, quoted=True) for c in columns] if columns else [exp.Star()]
    )
    query = exp.select(*projection).from_(exp.to_table(table, quoted=True))
    params: list[Any] = []
    for column, value in (where or {}).items():
        query = query.where(_condition(column, value, params))
    if limit is not None:
        if limit < 0:
            raise ValidationError.for_field("limit", "must be 0 or more")
        query = query.limit(int(limit))
    return query.sql(dialect=dialect), params


def _condition(column: str, value: Any, params: list[Any]) -> exp.Expression:
    col = exp.column(column, quoted=True)
    if isinstance(value, Between):
        parts: list[exp.Expression] = []
        if value.start is not None:
            params.append(value.start)
            parts.append(exp.GTE(this=col.copy(), expression=exp.Placeholder()))
        if value.end is not None:
            params.append(value.end)
            parts.append(exp.LTE(this=col.copy(), expression=exp.Placeholder()))
        if not parts:
            return exp.true()
        return exp.and_(*parts)  # type: ignore[return-value]
    if isinstance(value, (list, tuple, set)):
        values = list(value)
        if not values:
            return exp.false()
        params.extend(values)
        return col.isin(*[exp.Placeholder() for _ in values])
    if value is None:
        return exp.Is(this=col, expression=exp.null())
    params.append(value)
    return exp.EQ(this=col, expression=exp.Placeholder())
