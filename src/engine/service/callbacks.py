"""Signed completion callbacks.

When a job ends, each callback URL receives `POST` with the job's final view as JSON and headers

    X-Engine-Event:     training.completed | training.failed | batch.completed | batch.failed
    X-Engine-Timestamp: seconds since the epoch
    X-Engine-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the company's secret>

A receiver recomputes the HMAC with its secret (`python -m engine keys webhook-secret`) and
compares in constant time. Failed deliveries (connection error or non-2xx) are retried with
exponential backoff; every attempt is recorded. Targets on loopback, link-local, private or
reserved addresses are refused unless `ENGINE_CALLBACK_ALLOWLIST` names the host or its network.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import threading
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from engine.clock import new_id, now_iso
from engine.errors import FieldProblem, ValidationError
from engine.service.context import Context

ATTEMPTS = 4
FIRST_BACKOFF_SECONDS = 0.5


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def company_secret(ctx: Context, company: str) -> str:
    """The company's signing secret (created on first use), stored sealed."""
    stored = ctx.store.webhook_secret(
        company, ctx.cipher.seal_text(secrets.token_urlsafe(32)), now_iso()
    )
    return ctx.cipher.open_text(stored)


def _allowed(host: str, addresses: Sequence[str], allowlist: Sequence[str]) -> bool:
    for entry in allowlist:
        if entry == host:
            return True
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            continue
        if all(ipaddress.ip_address(a) in network for a in addresses):
            return True
    return False


def check_target(url: str, allowlist: Sequence[str], field: str = "callback_url") -> None:
    """Refuse URLs that are not http(s) or that point inside private networks (not allow-listed)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError.for_field(field, "must be an http(s) URL with a host")
    host = parts.hostname
    try:
        found = socket.getaddrinfo(host, parts.port or 443)
        addresses = sorted({str(info[4][0]).split("%")[0] for info in found})
    except socket.gaierror as exc:
        raise ValidationError.for_field(field, f"the host '{host}' does not resolve") from exc
    internal = [
        a
        for a in addresses
        if (ip := ipaddress.ip_address(a)).is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    ]
    if internal and not _allowed(host, addresses, allowlist):
        raise ValidationError(
            f"{field}: '{host}' resolves to an internal address ({internal[0]}); callbacks there "
            "need the host in ENGINE_CALLBACK_ALLOWLIST",
            [FieldProblem(field, "internal address not allow-listed")],
        )


def deliver_later(
    ctx: Context,
    company: str,
    job_id: str,
    event: str,
    payload: dict[str, Any],
    urls: Sequence[str],
) -> None:
    """Deliver in a background thread so that finishing a job never waits for a receiver."""
    if urls:
        threading.Thread(
            target=deliver,
            args=(ctx, company, job_id, event, payload, list(urls)),
            name=f"callbacks-{job_id}",
            daemon=True,
        ).start()


def deliver(
    ctx: Context,
    company: str,
    job_id: str,
    event: str,
    payload: dict[str, Any],
    urls: Sequence[str],
) -> None:
    import httpx

    body = json.dumps(payload, default=str, sort_keys=True).encode()
    secret = company_secret(ctx, company)
    with httpx.Client(timeout=10.0, follow_redirects=False) as client:
        for url in urls:
            for attempt in range(1, ATTEMPTS + 1):
                timestamp = str(int(time.time()))
                headers = {
                    "Content-Type": "application/json",
                    "X-Engine-Event": event,
                    "X-Engine-Timestamp": timestamp,
                    "X-Engine-Signature": signature(secret, timestamp, body),
                    "X-Engine-Delivery-Attempt": str(attempt),
                }
                status, error = None, None
                try:
                    check_target(url, ctx.settings.callback_allowlist)
                    response = client.post(url, content=body, headers=headers)
                    status = response.status_code
                    ok = 200 <= status < 300
                    if not ok:
                        error = f"receiver answered {status}"
                except (ValidationError, httpx.HTTPError) as exc:
                    ok, error = False, str(exc)
                ctx.store.add_delivery(
                    {
                        "delivery_id": new_id("dlv"),
                        "company": company,
                        "job_id": job_id,
                        "url": url,
                        "event": event,
                        "attempt": attempt,
                        "status_code": status,
                        "error": error,
                        "delivered": int(ok),
                        "at": now_iso(),
                    }
                )
                if ok:
                    break
                if attempt < ATTEMPTS:
                    time.sleep(FIRST_BACKOFF_SECONDS * 2 ** (attempt - 1))


def deliveries(ctx: Context, company: str, job_id: str) -> list[dict[str, Any]]:
    return [
        {k: row[k] for k in ("url", "event", "attempt", "status_code", "error", "at")}
        | {"delivered": bool(row["delivered"])}
        for row in ctx.store.list_deliveries(company, job_id)
    ]
