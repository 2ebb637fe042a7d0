"""Registries of plug-ins by short name, holding lazy dotted paths.

Nothing is imported until a name is looked up, so an optional driver that is not installed only
matters to the asset that asks for it. Third parties add entries through an entry-point group
(`engine.connectors`, `engine.algorithms`) or `register()`.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterator, Mapping
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from engine.errors import ConfigurationError, MissingDependencyError

T = TypeVar("T")


class Registry(Mapping[str, str], Generic[T]):
    """Short name → "package.module:Attribute", resolved on `load`."""

    def __init__(self, kind: str, group: str, builtin: Mapping[str, str]) -> None:
        self._kind = kind
        self._group = group
        self._paths = dict(builtin)
        self._extras: dict[str, str] = {}
        self._entry_points_loaded = False

    def register(self, name: str, path: str, *, extra: str | None = None) -> None:
        self._paths[name] = path
        if extra:
            self._extras[name] = extra

    def _ensure_entry_points(self) -> None:
        if self._entry_points_loaded:
            return
        for ep in entry_points(group=self._group):
            self._paths.setdefault(ep.name, ep.value)
        self._entry_points_loaded = True

    def __getitem__(self, name: str) -> str:
        self._ensure_entry_points()
        try:
            return self._paths[name]
        except KeyError:
            raise ConfigurationError(self.unknown_message(name)) from None

    def __contains__(self, name: object) -> bool:
        self._ensure_entry_points()
        return name in self._paths

    def __iter__(self) -> Iterator[str]:
        self._ensure_entry_points()
        return iter(sorted(self._paths))

    def __len__(self) -> int:
        self._ensure_entry_points()
        return len(self._paths)

    def unknown_message(self, name: str) -> str:
        close = difflib.get_close_matches(name, list(self), n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        return f"Unknown {self._kind} '{name}'.{hint} Known: {', '.join(self)}."

    def load(self, name: str) -> type[T]:
        module_name, _, attr = self[name].partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            extra = self._extras.get(name, name)
            raise MissingDependencyError(
                f"The {self._kind} '{name}' needs a package that is not installed "
                f"({exc.name}). Install it with: pip install 'engine[{extra}]'"
            ) from exc
        loaded: type[T] = getattr(module, attr)
        return loaded
