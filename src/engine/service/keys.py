"""API keys: each belongs to one company. Stored as sha256 hashes (the keys are 256-bit random
tokens, so a fast hash is enough); the key itself is shown once, at creation."""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any

from engine.clock import new_id, now_iso
from engine.errors import NotFoundError, ValidationError
from engine.service.context import Context

KEY_PREFIX = "ek_"
_COMPANY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(ctx: Context, company: str, name: str | None = None) -> dict[str, Any]:
    if not _COMPANY.match(company):
        raise ValidationError.for_field("company", "letters, digits, '.', '_' or '-', up to 128")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = {
        "key_id": new_id("key"),
        "company": company,
        "key_hash": hash_key(key),
        "prefix": key[:10],
        "name": name,
        "created_at": now_iso(),
        "revoked_at": None,
    }
    ctx.store.add_key(row)
    return {**_public(row), "api_key": key}


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("key_id", "company", "prefix", "name", "created_at", "revoked_at")}


def list_keys(ctx: Context, company: str | None = None) -> list[dict[str, Any]]:
    return [_public(r) for r in ctx.store.list_keys(company)]


def revoke_key(ctx: Context, key_id: str) -> None:
    if not ctx.store.revoke_key(key_id, now_iso()):
        raise NotFoundError(f"No active API key '{key_id}'.")


def company_for_key(ctx: Context, key: str) -> str | None:
    """The company a presented key belongs to, or None when it is unknown or revoked."""
    found = caller_for_key(ctx, key)
    return None if found is None else found[0]


def caller_for_key(ctx: Context, key: str) -> tuple[str, str] | None:
    """(company, key id) of a presented key, or None when it is unknown or revoked. The key id
    names the caller in the usage ledger."""
    row = ctx.store.key_by_hash(hash_key(key))
    if row is None or row["revoked_at"] is not None:
        return None
    return str(row["company"]), str(row["key_id"])
