"""Immutable versioned artifacts on the filesystem: `models/<asset_id>/<version>/`.

A version directory holds the payload files (a forecasting version keeps each series' model in
a folder of its own) and `manifest.json`, which records the sha256 of every payload file by its
path relative to the version. A version is written into a hidden temporary directory beside its final
place, flushed, and renamed into place in one step, so a crash never leaves a half-written
version visible; an existing version is never overwritten. Reading verifies every checksum
before anything is deserialized.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import ArtifactIntegrityError, ConflictError, NotFoundError

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class StoredArtifact:
    directory: Path
    manifest: dict[str, Any]


class FilesystemArtifactStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    @staticmethod
    def _checked(part: str) -> str:
        if not part or "/" in part or "\\" in part or part.startswith("."):
            raise NotFoundError(f"Invalid artifact name '{part}'.")
        return part

    def _asset_dir(self, asset_id: str) -> Path:
        return self.root / self._checked(asset_id)

    def _version_dir(self, asset_id: str, version: str) -> Path:
        return self._asset_dir(asset_id) / self._checked(version)

    def write(
        self,
        asset_id: str,
        version: str,
        write_payload: Callable[[Path], None],
        manifest: dict[str, Any],
    ) -> StoredArtifact:
        """Call `write_payload(tmpdir)`, checksum what it wrote, and publish the version."""
        final = self._version_dir(asset_id, version)
        if final.exists():
            raise ConflictError(f"Version {version} of asset {asset_id} already exists.")
        final.parent.mkdir(parents=True, exist_ok=True)
        staging = final.parent / f".tmp-{version}-{uuid.uuid4().hex}"
        staging.mkdir()
        try:
            write_payload(staging)
            files = {name: sha256_file(staging / name) for name in _payload_files(staging)}
            full = {**manifest, "format_version": FORMAT_VERSION, "files": files}
            (staging / MANIFEST).write_text(json.dumps(full, indent=2, sort_keys=True, default=str))
            _fsync_tree(staging)
            try:
                os.rename(staging, final)
            except OSError as exc:  # another writer published this version first
                raise ConflictError(
                    f"Version {version} of asset {asset_id} already exists."
                ) from exc
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return StoredArtifact(final, full)

    def read(self, asset_id: str, version: str) -> StoredArtifact:
        """Return the verified artifact, or raise ArtifactIntegrityError naming what differs."""
        directory = self._version_dir(asset_id, version)
        manifest_path = directory / MANIFEST
        if not manifest_path.is_file():
            raise NotFoundError(f"No stored artifact for version {version} of asset {asset_id}.")
        try:
            manifest = json.loads(manifest_path.read_text())
            files: dict[str, str] = manifest["files"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ArtifactIntegrityError(
                f"The manifest of {asset_id} {version} is unreadable; the artifact is refused."
            ) from exc
        present = set(_payload_files(directory))
        if present != set(files):
            raise ArtifactIntegrityError(
                f"Artifact {asset_id} {version} has files {sorted(present)} but its manifest "
                f"lists {sorted(files)}; it is refused."
            )
        for name, expected in files.items():
            if sha256_file(directory / name) != expected:
                raise ArtifactIntegrityError(
                    f"Artifact {asset_id} {version}: {name} does not match its sha256 in the "
                    "manifest (modified or corrupted); it is refused."
                )
        return StoredArtifact(directory, manifest)

    def versions(self, asset_id: str) -> list[str]:
        directory = self._asset_dir(asset_id)
        if not directory.is_dir():
            return []
        return sorted(
            p.name for p in directory.iterdir() if p.is_dir() and not p.name.startswith(".")
        )

    def delete_asset(self, asset_id: str) -> None:
        directory = self._asset_dir(asset_id)
        if directory.is_dir():
            trash = self.root / f".deleting-{asset_id}-{uuid.uuid4().hex}"
            os.rename(directory, trash)
            shutil.rmtree(trash, ignore_errors=True)

    def delete_version(self, asset_id: str, version: str) -> None:
        directory = self._version_dir(asset_id, version)
        if directory.is_dir():
            shutil.rmtree(directory)


def _payload_files(directory: Path) -> list[str]:
    """Every file under the version, as a relative posix path, the manifest excepted."""
    return sorted(
        p.relative_to(directory).as_posix()
        for p in directory.rglob("*")
        if p.is_file() and p.relative_to(directory).as_posix() != MANIFEST
    )


def _fsync_tree(directory: Path) -> None:
    for path in directory.iterdir():
        if path.is_dir():
            _fsync_tree(path)
            continue
        with path.open("rb") as handle:
            os.fsync(handle.fileno())
    with _directory_handle(directory) as fd:
        os.fsync(fd)


@contextmanager
def _directory_handle(directory: Path) -> Iterator[int]:
    fd = os.open(directory, os.O_RDONLY)
    try:
        yield fd
    finally:
        os.close(fd)
