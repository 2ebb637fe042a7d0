"""Sealing credentials: round trips, redaction, rotation, and the key file's permissions."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from hypothesis import given
from hypothesis import strategies as st

from engine.credentials import REDACTED, CredentialCipher, is_secret_field, load_cipher
from engine.errors import ConfigurationError

CONFIG = {
    "account": "xy12345",
    "user": "analytics_user",
    "password": "s3cret-Pa55",
    "private_key_passphrase": "pp",
    "credentials_json": {"type": "service_account", "private_key": "-----BEGIN..."},
    "warehouse": "WH",
    "port": 443,
}


@pytest.fixture
def cipher() -> CredentialCipher:
    return CredentialCipher([Fernet.generate_key()])


def test_only_credentials_are_sealed_and_they_open_again(cipher: CredentialCipher) -> None:
    sealed = cipher.seal_config(CONFIG)
    assert sorted(cipher.sealed_fields(sealed)) == [
        "credentials_json",
        "password",
        "private_key_passphrase",
    ]
    assert sealed["account"] == "xy12345"
    assert sealed["port"] == 443
    assert "s3cret-Pa55" not in json.dumps(sealed)
    assert "BEGIN" not in json.dumps(sealed)
    assert cipher.open_config(sealed) == CONFIG
    assert cipher.seal_config(sealed) == sealed  # sealing twice changes nothing


def test_redaction_never_shows_a_credential(cipher: CredentialCipher) -> None:
    for config in (CONFIG, cipher.seal_config(CONFIG)):
        shown = cipher.redact_config(config)
        assert shown["password"] == REDACTED
        assert shown["credentials_json"] == REDACTED
        assert shown["user"] == "analytics_user"


def test_secret_field_names() -> None:
    assert all(
        is_secret_field(n)
        for n in ("password", "private_key", "credentials_json", "oauth_token", "client_secret")
    )
    assert not any(is_secret_field(n) for n in ("user", "account", "dataset", "files", "port"))


def test_rotation_keeps_values_and_moves_to_the_new_key() -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    sealed = CredentialCipher([old]).seal_config(CONFIG)
    both = CredentialCipher([new, old])
    rotated = both.rotate_config(sealed)
    assert CredentialCipher([new]).open_config(rotated) == CONFIG
    with pytest.raises(ConfigurationError, match="cannot be opened"):
        CredentialCipher([new]).open_config(sealed)
    text = CredentialCipher([old]).seal_text("hook-secret")
    assert CredentialCipher([new]).open_text(both.rotate_text(text)) == "hook-secret"
    assert both.open_text("legacy-plaintext") == "legacy-plaintext"
    assert both.rotate_text("legacy-plaintext").startswith("fernet:")


@given(st.dictionaries(st.sampled_from(["password", "token", "user", "x"]), st.text()))
def test_open_inverts_seal(config: dict[str, str]) -> None:
    cipher = CredentialCipher([Fernet.generate_key()])
    assert cipher.open_config(cipher.seal_config(config)) == config


def test_the_key_file_is_created_owner_only_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    first = load_cipher([], path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = first.seal_text("x")
    assert load_cipher([], path).open_text(token) == "x"


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    path.write_bytes(Fernet.generate_key())
    path.chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        load_cipher([], path)


def test_malformed_environment_keys_are_refused_clearly() -> None:
    with pytest.raises(ConfigurationError, match="Fernet keys"):
        load_cipher(["not-a-key"], None)
