"""BigQuery client failures as engine errors, with the reason in plain words.

Messages quote BigQuery's own reason (the first line of it) and never the credentials.
"""

from __future__ import annotations

import concurrent.futures
from typing import Any

from engine.connectors.bigquery_clients import BigQuerySettings
from engine.errors import ConnectorError, EngineError, NotFoundError

_REASON_CHARS = 300


def driver_errors() -> tuple[type[BaseException], ...]:
    """Every exception the BigQuery libraries raise for a failed call."""
    import requests
    from google.api_core import exceptions as api
    from google.auth import exceptions as auth

    return (
        api.GoogleAPIError,
        auth.GoogleAuthError,
        requests.RequestException,
        concurrent.futures.TimeoutError,
        ConnectionError,
    )


def translate(
    exc: BaseException, settings: BigQuerySettings, table: str | None = None
) -> EngineError:
    """The engine error for a failed call; `table` names the table the call was about."""
    import requests
    from google.api_core import exceptions as api
    from google.auth import exceptions as auth

    if isinstance(exc, api.NotFound):
        return _not_found(exc, settings, table)
    if isinstance(exc, api.Unauthorized):
        return ConnectorError(f"BigQuery refused the credentials: {_reason(exc)}")
    if isinstance(exc, api.Forbidden):
        return ConnectorError(f"permission denied on {settings.dataset_path}: {_reason(exc)}")
    if isinstance(exc, api.BadRequest):
        return ConnectorError(f"BigQuery refused the query: {_reason(exc)}")
    if isinstance(exc, (api.DeadlineExceeded, api.RetryError, requests.Timeout)):
        return ConnectorError(
            f"no answer from BigQuery at {settings.rest_address} within "
            f"{settings.call_timeout_seconds:g} s"
        )
    if isinstance(exc, api.GoogleAPICallError):
        return ConnectorError(f"BigQuery answered {exc.code}: {_reason(exc)}")
    if isinstance(exc, requests.ConnectionError):
        return ConnectorError(f"could not reach {settings.rest_address} — {_network_reason(exc)}")
    if isinstance(exc, auth.DefaultCredentialsError):
        return ConnectorError(
            "no BigQuery credentials: give connection_config.credentials_json (a service-account "
            "key) or set up application default credentials on the server"
        )
    if isinstance(exc, auth.GoogleAuthError):
        return ConnectorError(f"the BigQuery credentials could not be used: {_first_arg(exc)}")
    if isinstance(exc, concurrent.futures.TimeoutError):
        return ConnectorError(
            f"the query did not finish within {settings.query_timeout_seconds:g} s "
            "(connection_config.query_timeout_seconds)"
        )
    return ConnectorError(f"BigQuery call failed: {_first_line(str(exc)) or type(exc).__name__}")


def _not_found(exc: Any, settings: BigQuerySettings, table: str | None) -> EngineError:
    text = _reason(exc).lower()
    if "dataset" in text and (table is None or "table" not in text):
        return ConnectorError(
            f"dataset '{settings.dataset}' not found in project '{settings.project}'"
            + (f" (location {settings.location})" if settings.location else "")
        )
    if table is not None:
        return NotFoundError(f"table '{table}' does not exist in dataset '{settings.dataset_path}'")
    return ConnectorError(f"BigQuery found nothing: {_reason(exc)}")


def unreachable(exc: BaseException) -> bool:
    """A refused connection or an unknown host: retrying cannot help, so it fails at once."""
    text = _chain_text(exc).lower()
    return any(
        sign in text
        for sign in ("connection refused", "name or service not known", "nodename nor servname")
    )


def _network_reason(exc: BaseException) -> str:
    text = _chain_text(exc).lower()
    if "connection refused" in text:
        return "connection refused"
    if "name or service not known" in text or "nodename nor servname" in text:
        return "host not found"
    if "timed out" in text:
        return "the connection timed out"
    return "the connection failed"


def _chain_text(exc: BaseException) -> str:
    parts: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(parts) < 10:
        parts.append(str(seen))
        seen = seen.__cause__ or seen.__context__
    return " | ".join(parts)


def _reason(exc: Any) -> str:
    errors = getattr(exc, "errors", None) or []
    first = errors[0] if errors else None
    if isinstance(first, dict) and first.get("message"):
        return _first_line(str(first["message"]))
    return _first_line(str(getattr(exc, "message", None) or exc))


def _first_arg(exc: BaseException) -> str:
    return _first_line(str(exc.args[0]) if exc.args else type(exc).__name__)


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:_REASON_CHARS]


def retryable(exc: BaseException) -> bool:
    """Worth another try: a dropped connection, a timeout, or BigQuery asking to retry."""
    import requests
    from google.api_core import exceptions as api

    if unreachable(exc):
        return False
    if isinstance(exc, (requests.ConnectionError, requests.Timeout, ConnectionError)):
        return True
    if isinstance(
        exc, (api.TooManyRequests, api.InternalServerError, api.BadGateway, api.ServiceUnavailable)
    ):
        return True
    errors = getattr(exc, "errors", None) or []
    reasons = {e.get("reason") for e in errors if isinstance(e, dict)}
    return bool(reasons & {"rateLimitExceeded", "backendError", "internalError", "badGateway"})


def storage_unavailable(exc: BaseException) -> bool:
    """A Storage Read API failure that REST pages avoid: the API not enabled or not allowed
    for these credentials, or not served at the endpoint."""
    from google.api_core import exceptions as api

    return isinstance(
        exc,
        (
            api.Forbidden,
            api.Unauthorized,
            api.MethodNotImplemented,
            api.ServiceUnavailable,
            api.RetryError,
        ),
    )
