"""Snowflake driver errors as `ConnectorError`s that say what went wrong in plain words.

The driver's own message is kept where it already names the thing at fault; a few common
failures (unreachable host, wrong credentials, missing database, schema or warehouse, timeouts)
are restated with the setting to fix. No credential text ever reaches a message.
"""

from __future__ import annotations

import socket

from engine.connectors.snowflake_config import SnowflakeSettings
from engine.errors import ConnectorError

# Driver error numbers (snowflake.connector.errorcode and Snowflake's server codes).
_UNREACHABLE = {250001, 250003, 251011, 251012}
_WRONG_PASSWORD = 390100
_KEY_PAIR_REFUSED = {390144, 394304}
_NO_DATABASE, _NO_SCHEMA = 90105, 90106
_NO_WAREHOUSE = 606
_CANCELLED = {604, 630}


def connector_error(exc: BaseException, settings: SnowflakeSettings, doing: str) -> ConnectorError:
    """`doing` completes "Snowflake … failed", e.g. "login" or "query"."""
    return ConnectorError(_scrubbed(_reason(exc, settings, doing), settings.secrets))


def _reason(exc: BaseException, settings: SnowflakeSettings, doing: str) -> str:
    os_error = _os_error_in(exc)
    errno = getattr(exc, "errno", None)
    raw = " ".join(str(getattr(exc, "raw_msg", None) or exc).split())
    user = settings.connect_args["user"]
    if os_error is not None:
        return f"could not reach Snowflake at {settings.address} — {_plain(os_error)}"
    if errno in _UNREACHABLE:
        return f"could not reach Snowflake at {settings.address} — {raw}"
    if errno == _WRONG_PASSWORD:
        return f"authentication failed for user '{user}': incorrect user name or password"
    if errno in _KEY_PAIR_REFUSED:
        return (
            f"key-pair authentication failed for user '{user}': the public key registered for "
            f"the user does not match connection_config.private_key ({raw})"
        )
    if errno == _NO_DATABASE:
        return (
            f"database '{settings.database}' does not exist or the role cannot use it "
            "(connection_config.database)"
        )
    if errno == _NO_SCHEMA:
        return missing_schema(settings)
    if errno == _NO_WAREHOUSE:
        warehouse = settings.connect_args.get("warehouse")
        return (
            f"warehouse '{warehouse}' does not exist, is suspended without auto-resume, or the "
            "role cannot use it (connection_config.warehouse)"
            if warehouse
            else "no warehouse to run queries: give connection_config.warehouse"
        )
    if errno in _CANCELLED and settings.query_timeout_seconds:
        return (
            f"the query was stopped after {settings.query_timeout_seconds} s "
            f"(connection_config.query_timeout_seconds): {raw}"
        )
    return f"Snowflake {doing} failed: {raw}"


def missing_schema(settings: SnowflakeSettings) -> str:
    return (
        f"schema '{settings.schema}' does not exist in database '{settings.database}' or the "
        "role cannot use it (connection_config.schema)"
    )


def _os_error_in(exc: BaseException) -> OSError | None:
    """The socket-level cause the driver wraps several layers deep, if there is one."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and (current.errno or isinstance(current, TimeoutError)):
            return current
        current = current.__cause__ or current.__context__
    return None


def _plain(error: OSError) -> str:
    if isinstance(error, socket.gaierror):
        return "the host name does not resolve"
    if isinstance(error, TimeoutError):
        return "timed out"
    return (error.strerror or type(error).__name__).lower()


def _scrubbed(message: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if len(secret) >= 4:  # shorter texts would blank out ordinary words
            message = message.replace(secret, "***")
    return message
