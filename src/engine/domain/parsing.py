"""Turning untrusted mappings into validated models, with errors that name the field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import pydantic

from engine.errors import FieldProblem, ValidationError

M = TypeVar("M", bound=pydantic.BaseModel)


def field_path(location: tuple[int | str, ...], prefix: str = "") -> str:
    path = prefix
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path or "body"


def problems_of(exc: pydantic.ValidationError, prefix: str = "") -> list[FieldProblem]:
    return [FieldProblem(field_path(e["loc"], prefix), e["msg"]) for e in exc.errors()]


def parse(model: type[M], data: Mapping[str, Any] | None, what: str, prefix: str = "") -> M:
    """Validate `data` as `model`; raise ValidationError listing every field at fault."""
    try:
        return model.model_validate(dict(data or {}))
    except pydantic.ValidationError as exc:
        details = problems_of(exc, prefix)
        summary = "; ".join(f"{d.field}: {d.problem}" for d in details[:5])
        raise ValidationError(f"Invalid {what}: {summary}", details) from None
