"""A request's `input_data` (flat or nested, as in the contract) resolved onto model features."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.errors import FieldProblem

RESERVED_FIELDS = frozenset({"customer_id"})


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{path}."))
        else:
            out[path] = value
    return out


class InputResolver:
    """Maps request field paths to feature names: exact name first, else the last path part."""

    def __init__(self, features: Sequence[str], allowed_extra: Sequence[str] = ()) -> None:
        self.features = list(features)
        self._known = set(features)
        self._allowed = set(allowed_extra) | RESERVED_FIELDS

    def resolve(
        self, input_data: Any, prefix: str = "input_data"
    ) -> tuple[dict[str, Any], dict[str, Any], list[FieldProblem]]:
        """Return (feature values, extra allowed fields, problems)."""
        if not isinstance(input_data, Mapping):
            return {}, {}, [FieldProblem(prefix, "must be an object")]
        values: dict[str, Any] = {}
        extras: dict[str, Any] = {}
        problems: list[FieldProblem] = []
        for path, value in flatten(input_data).items():
            leaf = path.rsplit(".", 1)[-1]
            name = path if path in self._known else leaf if leaf in self._known else None
            if name is None:
                if path in self._allowed or leaf in self._allowed:
                    extras[leaf] = value
                else:
                    problems.append(
                        FieldProblem(
                            f"{prefix}.{path}", "unknown field: not a feature of this asset"
                        )
                    )
                continue
            if name in values:
                problems.append(
                    FieldProblem(f"{prefix}.{path}", f"feature '{name}' is given twice")
                )
                continue
            values[name] = value
        return values, extras, problems

    def missing(self, values: Mapping[str, Any], prefix: str = "input_data") -> list[FieldProblem]:
        return [
            FieldProblem(
                f"{prefix}.{name}", "required feature is missing (send null for an unknown value)"
            )
            for name in self.features
            if name not in values
        ]
