"""Semantic versions of assets: configuration changes bump the minor part, retraining the same
configuration bumps the patch part."""

from __future__ import annotations

import re

_SEMVER = re.compile(r"(\d+)\.(\d+)\.(\d+)")


def parse(version: str) -> tuple[int, int, int]:
    match = _SEMVER.fullmatch(version)
    if not match:
        raise ValueError(f"'{version}' is not a semantic version (MAJOR.MINOR.PATCH)")
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch


def bump_minor(version: str) -> str:
    major, minor, _ = parse(version)
    return f"{major}.{minor + 1}.0"


def next_model_version(config_version: str, existing: list[str]) -> str:
    """The first free version at or after the asset's configuration version, by patch."""
    major, minor, patch = parse(config_version)
    taken = set(existing)
    while f"{major}.{minor}.{patch}" in taken:
        patch += 1
    return f"{major}.{minor}.{patch}"


def sort_key(version: str) -> tuple[int, int, int]:
    return parse(version)
