"""A Snowflake source's `connection_config`, checked and turned into the driver's arguments.

Fields: `account`, `user` (or `username`), `password` or `private_key` (PEM text, with
`private_key_passphrase` when it is encrypted), `database`, `schema` (required: the source's
tables are that schema's tables), `role`, `warehouse` (optional: the user's defaults otherwise);
`host`, `port`, `protocol` for private links and emulators; options `max_rows` (a cap on the rows
of every read), `query_timeout_seconds`, `login_timeout`.

`database` and `schema` follow Snowflake's rule for identifiers: unquoted they are upper-cased
(`public` is `PUBLIC`), wrapped in double quotes they are taken exactly (`'"Sales"'`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.errors import ValidationError

_FIELDS = (
    "account",
    "user",
    "username",
    "password",
    "private_key",
    "private_key_passphrase",
    "role",
    "warehouse",
    "database",
    "schema",
    "host",
    "port",
    "protocol",
    "max_rows",
    "query_timeout_seconds",
    "login_timeout",
)
DEFAULT_LOGIN_TIMEOUT = 30  # seconds; the driver's own default (120) stalls a connection test
_ACCOUNT_URL = re.compile(
    r"^(?:https?://)?(?P<account>[^/]+?)(?:\.snowflakecomputing\.(?:com|cn))?/?$"
)


@dataclass(frozen=True)
class SnowflakeSettings:
    connect_args: dict[str, Any]
    database: str
    """The database's name as Snowflake stores it (see `stored_name`)."""
    schema: str
    max_rows: int | None
    query_timeout_seconds: int | None
    secrets: tuple[str, ...]
    """Credential texts, to keep out of any message."""

    @property
    def address(self) -> str:
        host = (
            self.connect_args.get("host")
            or f"{self.connect_args['account']}.snowflakecomputing.com"
        )
        port = self.connect_args.get("port")
        return f"{host}:{port}" if port else str(host)


def stored_name(identifier: str) -> str:
    """How Snowflake stores a name written as `identifier`: exact inside double quotes,
    upper-cased otherwise."""
    if len(identifier) >= 2 and identifier.startswith('"') and identifier.endswith('"'):
        return identifier[1:-1].replace('""', '"')
    return identifier.upper()


def settings_from(config: Mapping[str, Any]) -> SnowflakeSettings:
    _refuse_unknown(config)
    user = _text(config, "user", required=False) or _text(config, "username", required=False)
    if not user:
        raise ValidationError.for_field("connection_config.user", "is required")
    password = _text(config, "password", required=False)
    private_key = _text(config, "private_key", required=False)
    if bool(password) == bool(private_key):
        raise ValidationError.for_field(
            "connection_config.password",
            "give either 'password' or 'private_key' (PEM text for key-pair authentication)",
        )
    args: dict[str, Any] = {
        "account": _account(_text(config, "account")),
        "user": user,
        "database": _text(config, "database"),
        "schema": _text(config, "schema"),
        "login_timeout": _whole(config, "login_timeout") or DEFAULT_LOGIN_TIMEOUT,
    }
    for field in ("role", "warehouse", "host", "protocol"):
        if value := _text(config, field, required=False):
            args[field] = value
    if "protocol" in args and args["protocol"] not in ("https", "http"):
        raise ValidationError.for_field("connection_config.protocol", "must be 'https' or 'http'")
    if port := _whole(config, "port"):
        args["port"] = port
    passphrase = _text(config, "private_key_passphrase", required=False)
    if private_key:
        args["authenticator"] = "SNOWFLAKE_JWT"
        args["private_key"] = _load_private_key(private_key, passphrase)
    else:
        args["password"] = password
    return SnowflakeSettings(
        connect_args=args,
        database=stored_name(args["database"]),
        schema=stored_name(args["schema"]),
        max_rows=_whole(config, "max_rows"),
        query_timeout_seconds=_whole(config, "query_timeout_seconds"),
        secrets=tuple(s for s in (password, private_key, passphrase) if s),
    )


def _refuse_unknown(config: Mapping[str, Any]) -> None:
    for name in config:
        if name not in _FIELDS:
            close = difflib.get_close_matches(str(name), _FIELDS, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ValidationError.for_field(
                f"connection_config.{name}", f"is not a Snowflake connection setting{hint}"
            )


def _text(config: Mapping[str, Any], field: str, required: bool = True) -> str | None:
    value = config.get(field)
    if value is None or value == "":
        if required:
            raise ValidationError.for_field(f"connection_config.{field}", "is required")
        return None
    if not isinstance(value, str):
        raise ValidationError.for_field(f"connection_config.{field}", "must be text")
    return value


def _whole(config: Mapping[str, Any], field: str) -> int | None:
    value = config.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValidationError.for_field(
            f"connection_config.{field}", "must be a whole number above 0"
        )
    return value


def _account(account: str | None) -> str:
    """The account identifier, also when given as the account's URL (which the driver would
    otherwise turn into `<url>.snowflakecomputing.com`)."""
    match = _ACCOUNT_URL.match(account or "")
    if not match:
        raise ValidationError.for_field(
            "connection_config.account",
            "must be an account identifier such as 'xy12345' or 'org-acct'",
        )
    return match.group("account")


def _load_private_key(pem: str, passphrase: str | None) -> Any:
    """The key as an object, so the driver never sees PEM text or passphrase; the reason it
    cannot be read is named without quoting any of it."""
    from cryptography.hazmat.primitives import serialization

    try:
        return serialization.load_pem_private_key(
            pem.encode(), password=passphrase.encode() if passphrase else None
        )
    except TypeError:
        problem = (
            "is encrypted: give 'private_key_passphrase'"
            if not passphrase
            else "is not encrypted: remove 'private_key_passphrase'"
        )
        raise ValidationError.for_field("connection_config.private_key", problem) from None
    except ValueError:
        raise ValidationError.for_field(
            "connection_config.private_key",
            "could not be read as a PEM private key (or the passphrase is wrong)",
        ) from None
