"""Versioned artifacts on disk: checksummed manifests, atomic publication, refusal on tampering."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.artifacts import MANIFEST, FilesystemArtifactStore
from engine.errors import ArtifactIntegrityError, ConflictError, NotFoundError

PAYLOAD = {"model.bin": b"\x00\x01weights\xff" * 100, "encoder.json": b'{"features": []}'}


def _write_files(files: dict[str, bytes]) -> Callable[[Path], None]:
    def write_payload(directory: Path) -> None:
        for name, data in files.items():
            (directory / name).write_bytes(data)

    return write_payload


@pytest.fixture
def store(tmp_path: Path) -> FilesystemArtifactStore:
    return FilesystemArtifactStore(tmp_path / "models")


@pytest.fixture
def published(store: FilesystemArtifactStore) -> Path:
    return store.write(
        "asset-1", "1.0.0", _write_files(PAYLOAD), {"algorithm": "xgboost"}
    ).directory


def test_write_then_read_round_trips_with_checksums(store: FilesystemArtifactStore) -> None:
    written = store.write("asset-1", "1.0.0", _write_files(PAYLOAD), {"algorithm": "xgboost"})
    assert written.directory == store.root / "asset-1" / "1.0.0"
    assert sorted(p.name for p in written.directory.iterdir()) == [
        "encoder.json",
        MANIFEST,
        "model.bin",
    ]
    on_disk = json.loads((written.directory / MANIFEST).read_text())
    assert on_disk == written.manifest
    assert on_disk["algorithm"] == "xgboost"
    assert on_disk["format_version"] == 1
    assert on_disk["files"] == {name: hashlib.sha256(d).hexdigest() for name, d in PAYLOAD.items()}

    read = store.read("asset-1", "1.0.0")
    assert read.directory == written.directory
    assert read.manifest == on_disk
    for name, data in PAYLOAD.items():
        assert (read.directory / name).read_bytes() == data
    assert store.versions("asset-1") == ["1.0.0"]


def test_an_existing_version_is_never_overwritten(
    store: FilesystemArtifactStore, published: Path
) -> None:
    with pytest.raises(ConflictError, match=r"1\.0\.0"):
        store.write("asset-1", "1.0.0", _write_files({"model.bin": b"other"}), {})
    assert (published / "model.bin").read_bytes() == PAYLOAD["model.bin"]
    assert store.read("asset-1", "1.0.0").manifest["algorithm"] == "xgboost"
    assert [p.name for p in published.parent.iterdir()] == ["1.0.0"]


@pytest.mark.parametrize("name", ["model.bin", "encoder.json"])
def test_a_modified_payload_file_is_refused(
    store: FilesystemArtifactStore, published: Path, name: str
) -> None:
    target = published / name
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01  # flip one bit, same length
    target.write_bytes(bytes(data))
    with pytest.raises(ArtifactIntegrityError, match=name):
        store.read("asset-1", "1.0.0")


def test_an_extra_file_is_refused(store: FilesystemArtifactStore, published: Path) -> None:
    (published / "backdoor.py").write_text("import os")
    with pytest.raises(ArtifactIntegrityError, match=r"backdoor\.py"):
        store.read("asset-1", "1.0.0")


def test_a_removed_file_is_refused(store: FilesystemArtifactStore, published: Path) -> None:
    (published / "encoder.json").unlink()
    with pytest.raises(ArtifactIntegrityError, match=r"encoder\.json"):
        store.read("asset-1", "1.0.0")


def test_a_manifest_edited_to_match_nothing_is_refused(
    store: FilesystemArtifactStore, published: Path
) -> None:
    manifest = json.loads((published / MANIFEST).read_text())
    manifest["files"]["model.bin"] = "0" * 64
    (published / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ArtifactIntegrityError):
        store.read("asset-1", "1.0.0")
    (published / MANIFEST).write_text("{not json")
    with pytest.raises(ArtifactIntegrityError):
        store.read("asset-1", "1.0.0")


def test_reading_a_missing_version_is_not_found(
    store: FilesystemArtifactStore, published: Path
) -> None:
    with pytest.raises(NotFoundError):
        store.read("asset-1", "9.9.9")
    with pytest.raises(NotFoundError):
        store.read("nobody", "1.0.0")
    with pytest.raises(NotFoundError):
        store.read("asset-1", "../asset-1")


def test_an_interrupted_write_leaves_no_visible_version(store: FilesystemArtifactStore) -> None:
    seen: list[Path] = []

    def crash_midway(directory: Path) -> None:
        (directory / "model.bin").write_bytes(b"half of the model")
        seen.append(directory)
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        store.write("asset-1", "1.0.0", crash_midway, {})

    asset_dir = store.root / "asset-1"
    assert store.versions("asset-1") == []
    assert not (asset_dir / "1.0.0").exists()
    assert not seen[0].exists()
    assert seen[0].parent == asset_dir  # the staging dir sat beside the final place
    assert list(asset_dir.iterdir()) == []  # no .tmp-* directory left behind
    with pytest.raises(NotFoundError):
        store.read("asset-1", "1.0.0")

    # The same version can then be written for real.
    store.write("asset-1", "1.0.0", _write_files(PAYLOAD), {})
    assert store.versions("asset-1") == ["1.0.0"]


def test_an_interrupt_that_is_not_an_exception_subclass_also_cleans_up(
    store: FilesystemArtifactStore,
) -> None:
    def interrupted(directory: Path) -> None:
        (directory / "model.bin").write_bytes(b"partial")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.write("asset-1", "2.0.0", interrupted, {})
    assert list((store.root / "asset-1").iterdir()) == []


def test_versions_ignores_hidden_directories_and_files(
    store: FilesystemArtifactStore, published: Path
) -> None:
    asset_dir = published.parent
    (asset_dir / ".tmp-1.1.0-deadbeef").mkdir()
    (asset_dir / ".trash").mkdir()
    (asset_dir / "notes.txt").write_text("not a version")
    store.write("asset-1", "1.1.0", _write_files(PAYLOAD), {})
    assert store.versions("asset-1") == ["1.0.0", "1.1.0"]
    assert store.versions("unknown-asset") == []


def test_delete_version_and_asset(store: FilesystemArtifactStore, published: Path) -> None:
    store.write("asset-1", "1.1.0", _write_files(PAYLOAD), {})
    store.delete_version("asset-1", "1.0.0")
    assert store.versions("asset-1") == ["1.1.0"]
    store.delete_asset("asset-1")
    assert store.versions("asset-1") == []
    assert [p.name for p in store.root.iterdir()] == []


def _nested(directory: Path) -> None:
    (directory / "forecast.json").write_text("{}")
    for name in ("series/00000", "series/00001"):
        (directory / name).mkdir(parents=True)
        (directory / name / "arima.json").write_text(f'{{"series": "{name}"}}')


def test_files_in_subfolders_are_checksummed_by_relative_path(
    store: FilesystemArtifactStore,
) -> None:
    written = store.write("asset-2", "1.0.0", _nested, {"model_type": "time_series"})
    assert set(written.manifest["files"]) == {
        "forecast.json",
        "series/00000/arima.json",
        "series/00001/arima.json",
    }
    store.read("asset-2", "1.0.0")
    (written.directory / "series" / "00001" / "arima.json").write_text('{"series": "forged"}')
    with pytest.raises(ArtifactIntegrityError, match=r"series/00001/arima\.json"):
        store.read("asset-2", "1.0.0")


def test_an_extra_file_in_a_subfolder_is_refused(store: FilesystemArtifactStore) -> None:
    written = store.write("asset-3", "1.0.0", _nested, {"model_type": "time_series"})
    (written.directory / "series" / "00000" / "extra.pt").write_bytes(b"\x00")
    with pytest.raises(ArtifactIntegrityError):
        store.read("asset-3", "1.0.0")
