"""A BigQuery source's settings, read from its `connection_config`, and the clients they open.

Fields: `project` and `dataset` (required); `location`; `credentials_json` (a service-account
key, as a JSON object or string; without it, application default credentials); `api_endpoint`
(REST) and `storage_api_endpoint` (Storage Read gRPC) for private endpoints and emulators;
`max_rows` (the most rows one read returns) and `query_timeout_seconds`.

A plain `http://` api_endpoint is an insecure channel: the requests go unauthenticated unless
credentials are given, and the Storage Read endpoint is reached over an insecure gRPC channel.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit

from engine.errors import ValidationError

if TYPE_CHECKING:
    from google.auth.credentials import Credentials
    from google.cloud import bigquery, bigquery_storage_v1

_SCOPES = (
    "https://www.googleapis.com/auth/bigquery",
    "https://www.googleapis.com/auth/cloud-platform",
)
_DEFAULT_TIMEOUT_SECONDS = 300.0
_CALL_TIMEOUT_SECONDS = 60.0
_STORAGE_MESSAGE_BYTES = 512 * 1024 * 1024
_CONNECT_SECONDS = 10.0


@dataclass(frozen=True)
class BigQuerySettings:
    project: str
    dataset: str
    location: str | None
    credentials_info: Mapping[str, Any] | None = field(repr=False)  # holds a private key
    api_endpoint: str | None
    storage_api_endpoint: str | None
    max_rows: int | None
    query_timeout_seconds: float

    @property
    def insecure(self) -> bool:
        return bool(self.api_endpoint and self.api_endpoint.startswith("http://"))

    @property
    def rest_address(self) -> str:
        """host:port the REST requests go to, for messages."""
        parts = urlsplit(self.api_endpoint or "https://bigquery.googleapis.com")
        port = parts.port or (80 if parts.scheme == "http" else 443)
        return f"{parts.hostname}:{port}"

    @property
    def call_timeout_seconds(self) -> float:
        """The time one API call (not a query job) may take."""
        return min(_CALL_TIMEOUT_SECONDS, self.query_timeout_seconds)

    @property
    def dataset_path(self) -> str:
        return f"{self.project}.{self.dataset}"


def read_settings(config: Mapping[str, Any]) -> BigQuerySettings:
    """Check `connection_config`; every problem names its field."""
    return BigQuerySettings(
        project=_name(config, "project"),
        dataset=_name(config, "dataset"),
        location=_optional_text(config, "location"),
        credentials_info=_credentials_info(config.get("credentials_json")),
        api_endpoint=_api_endpoint(config.get("api_endpoint")),
        storage_api_endpoint=_optional_text(config, "storage_api_endpoint"),
        max_rows=_positive(config, "max_rows", int),
        query_timeout_seconds=_positive(config, "query_timeout_seconds", float)
        or _DEFAULT_TIMEOUT_SECONDS,
    )


def _name(config: Mapping[str, Any], field: str) -> str:
    value = config.get(field)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError.for_field(f"connection_config.{field}", "is required (a name)")
    if "`" in value:
        raise ValidationError.for_field(f"connection_config.{field}", "must not hold backticks")
    return value.strip()


def _optional_text(config: Mapping[str, Any], field: str) -> str | None:
    value = config.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValidationError.for_field(f"connection_config.{field}", "must be a string")
    return value.strip()


def _positive(config: Mapping[str, Any], field: str, kind: type[int] | type[float]) -> Any:
    value = config.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        _bad(field, "must be a positive number")
    if kind is int and value != int(value):
        _bad(field, "must be a whole number")
    return kind(value)


def _bad(field: str, problem: str) -> NoReturn:
    raise ValidationError.for_field(f"connection_config.{field}", problem)


def _api_endpoint(value: Any) -> str | None:
    if value is None or value == "":
        return None
    parts = urlsplit(str(value))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        _bad("api_endpoint", "must be a URL such as https://bigquery.example.com")
    return str(value).rstrip("/")


def _credentials_info(value: Any) -> Mapping[str, Any] | None:
    """The key as a mapping. Messages never quote the key: it holds a private key."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            _bad("credentials_json", "is not valid JSON")
    if not isinstance(value, Mapping):
        _bad("credentials_json", "must be a service-account key (a JSON object)")
    missing = [k for k in ("type", "client_email", "private_key", "token_uri") if not value.get(k)]
    if missing or value.get("type") != "service_account":
        _bad(
            "credentials_json",
            "is not a service-account key"
            + (f" (missing {', '.join(missing)})" if missing else " (type is not service_account)"),
        )
    return dict(value)


def credentials(settings: BigQuerySettings) -> Credentials | None:
    """Explicit credentials, anonymous ones on an insecure endpoint, or None for the client's
    application default credentials."""
    if settings.credentials_info is not None:
        from google.oauth2 import service_account

        try:
            key: Credentials = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                dict(settings.credentials_info), scopes=_SCOPES
            )
        except ValueError:
            _bad("credentials_json", "holds a private key that could not be read")
        return key
    if settings.insecure:
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials()  # type: ignore[no-untyped-call]
    return None


def rest_client(settings: BigQuerySettings, creds: Credentials | None) -> bigquery.Client:
    from google.api_core.client_options import ClientOptions
    from google.cloud import bigquery

    options = ClientOptions(api_endpoint=settings.api_endpoint) if settings.api_endpoint else None
    return bigquery.Client(
        project=settings.project,
        credentials=creds,
        location=settings.location,
        client_options=options,
    )


def storage_client(
    settings: BigQuerySettings, creds: Credentials | None
) -> tuple[bigquery_storage_v1.BigQueryReadClient | None, str]:
    """A Storage Read API client that has connected, or (None, why not)."""
    try:
        import grpc  # type: ignore[import-untyped]
        from google.cloud import bigquery_storage_v1
        from google.cloud.bigquery_storage_v1.services.big_query_read.transports import (
            BigQueryReadGrpcTransport,
        )
    except ImportError:
        return None, "google-cloud-bigquery-storage is not installed"
    endpoint = settings.storage_api_endpoint
    if settings.insecure or (endpoint or "").startswith("http://"):
        if not endpoint:
            return None, "no connection_config.storage_api_endpoint beside the http:// api_endpoint"
        address = endpoint.removeprefix("http://")
        channel = grpc.insecure_channel(
            address, options=[("grpc.max_receive_message_length", _STORAGE_MESSAGE_BYTES)]
        )
        client = bigquery_storage_v1.BigQueryReadClient(  # type: ignore[no-untyped-call]
            transport=BigQueryReadGrpcTransport(channel=channel)
        )
    else:
        address = (endpoint or "bigquery.googleapis.com").removeprefix("https://")
        options = {"api_endpoint": address} if endpoint else None
        client = bigquery_storage_v1.BigQueryReadClient(  # type: ignore[no-untyped-call]
            credentials=creds, client_options=options
        )
    # A read session retries an unreachable endpoint for ten minutes; find out at once instead.
    transport = client.transport
    assert isinstance(transport, BigQueryReadGrpcTransport)
    try:
        grpc.channel_ready_future(transport.grpc_channel).result(timeout=_CONNECT_SECONDS)
    except grpc.FutureTimeoutError:
        transport.close()  # type: ignore[no-untyped-call]
        return None, f"could not reach {address} within {_CONNECT_SECONDS:g} s"
    return client, ""
