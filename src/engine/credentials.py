"""Credentials at rest: secret fields of a connection config, and webhook signing secrets, are
sealed with Fernet (AES-128-CBC with HMAC-SHA256 authentication) before they are stored, and
opened only where a driver or a signature needs them.

Keys come from `ENGINE_SECRET_KEYS` (several, comma-separated, for rotation: the first seals,
any opens) or from a key file created on first use with owner-only permissions; a key file that
others can read is refused rather than used.
"""

from __future__ import annotations

import json
import os
import re
import stat
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from engine.errors import ConfigurationError

SEALED = "$sealed"  # a sealed config value is {"$sealed": "<fernet token>"}
_TEXT_PREFIX = "fernet:"  # a sealed string (webhook secret) is "fernet:<token>"
_SECRET_NAME = re.compile(r"password|passphrase|secret|token|private_key|credentials", re.I)
REDACTED = "[encrypted]"


def is_secret_field(name: str) -> bool:
    """Whether a connection_config field holds a credential (by name: password, private_key,
    credentials_json, token, client_secret, ...)."""
    return bool(_SECRET_NAME.search(name))


class CredentialCipher:
    def __init__(self, keys: Iterable[bytes]) -> None:
        fernets = [Fernet(k) for k in keys]
        if not fernets:
            raise ConfigurationError("No key to seal credentials with.")
        self._fernet = MultiFernet(fernets)

    # connection configs ------------------------------------------------------------------------
    def seal_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The config with every credential field sealed; other fields as given."""
        return {
            name: self._seal_value(value)
            if is_secret_field(name) and value is not None and not _is_sealed(value)
            else value
            for name, value in config.items()
        }

    def open_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The config as the driver needs it, credentials in the clear."""
        return {
            name: self._open_value(value) if _is_sealed(value) else value
            for name, value in config.items()
        }

    @staticmethod
    def redact_config(config: Mapping[str, Any]) -> dict[str, Any]:
        """The config as it may be shown: credential fields replaced by a marker."""
        return {
            name: REDACTED if _is_sealed(value) or is_secret_field(name) else value
            for name, value in config.items()
        }

    @staticmethod
    def sealed_fields(config: Mapping[str, Any]) -> list[str]:
        return sorted(name for name, value in config.items() if _is_sealed(value))

    def _seal_value(self, value: Any) -> dict[str, str]:
        return {SEALED: self._fernet.encrypt(json.dumps(value).encode()).decode()}

    def _open_value(self, value: Mapping[str, str]) -> Any:
        try:
            return json.loads(self._fernet.decrypt(value[SEALED].encode()))
        except InvalidToken as exc:
            raise ConfigurationError(
                "A stored credential cannot be opened with the configured keys "
                "(ENGINE_SECRET_KEYS or the key file changed?)."
            ) from exc

    # single strings ----------------------------------------------------------------------------
    def seal_text(self, text: str) -> str:
        return _TEXT_PREFIX + self._fernet.encrypt(text.encode()).decode()

    def open_text(self, stored: str) -> str:
        """A sealed string in the clear; a string stored before sealing existed is returned as
        it is (and sealed the next time it is written)."""
        if not stored.startswith(_TEXT_PREFIX):
            return stored
        try:
            return self._fernet.decrypt(stored[len(_TEXT_PREFIX) :].encode()).decode()
        except InvalidToken as exc:
            raise ConfigurationError(
                "A stored secret cannot be opened with the configured keys."
            ) from exc

    def rotate_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """Re-seal every sealed field with the first (current) key."""
        return {
            name: {SEALED: self._fernet.rotate(value[SEALED].encode()).decode()}
            if _is_sealed(value)
            else value
            for name, value in config.items()
        }

    def rotate_text(self, stored: str) -> str:
        if not stored.startswith(_TEXT_PREFIX):
            return self.seal_text(stored)
        return _TEXT_PREFIX + self._fernet.rotate(stored[len(_TEXT_PREFIX) :].encode()).decode()


def _is_sealed(value: Any) -> bool:
    return isinstance(value, Mapping) and set(value) == {SEALED}


def load_cipher(keys: Iterable[str], key_file: Path | None) -> CredentialCipher:
    """The cipher from explicit keys, else from the key file (created if missing)."""
    given = [k.encode() for k in keys]
    if given:
        try:
            return CredentialCipher(given)
        except ValueError as exc:
            raise ConfigurationError(
                "ENGINE_SECRET_KEYS must be Fernet keys (32 url-safe base64-encoded bytes); "
                "make one with: python -m engine keys new-secret-key"
            ) from exc
    if key_file is None:
        raise ConfigurationError("No ENGINE_SECRET_KEYS and no key file to seal credentials.")
    return CredentialCipher([_key_from_file(key_file)])


def _key_from_file(path: Path) -> bytes:
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigurationError(
                f"The key file {path} can be read by others; run: chmod 600 {path}"
            ) from None
        for _ in range(50):  # another process may have created it a moment ago and be writing
            key = path.read_bytes().strip()
            if key:
                return key
            time.sleep(0.01)
        raise ConfigurationError(f"The key file {path} is empty.") from None
    key = Fernet.generate_key()
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key + b"\n")
    return key
