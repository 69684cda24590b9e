"""Model files in a local directory: the embedded default when no MinIO endpoint is configured.

Layout under ``root``: ``objects/<object name>`` holds the content, ``checksums/<object name>`` a JSON
sidecar with the SHA-256 and the (size, mtime, inode) of the content it was computed for, and ``.tmp/``
the files being written. Every write goes to ``.tmp/`` and is renamed into place, so a reader sees the
old content or the new one, never a part. A sidecar that does not match its content (a crash between
the two renames, a file changed by hand) is ignored and the SHA-256 computed again.
"""

from __future__ import annotations

import asyncio
import builtins
import json
import logging
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import BinaryIO

from budgraph.storage.digests import CHUNK_BYTES, copy_and_hash, sha256_bytes, sha256_file
from budgraph.storage.errors import InvalidObjectPath, ObjectNotFound, StorageError
from budgraph.storage.keys import ObjectKey, StoredObject, revision_prefix
from budgraph.storage.store import check_range

logger = logging.getLogger("budgraph.storage")


class LocalObjectStore:
    """An ``ObjectStore`` in a directory; blocking file work runs in threads (``asyncio.to_thread``)."""

    def __init__(self, root: Path) -> None:
        self.root = root.expanduser().resolve()
        self._objects = self.root / "objects"
        self._checksums = self.root / "checksums"
        self._tmp = self.root / ".tmp"

    async def ensure_ready(self) -> None:
        await asyncio.to_thread(self._ensure_ready)

    async def put_file(self, key: ObjectKey, local_path: Path) -> StoredObject:
        return await asyncio.to_thread(self._put, key, local_path)

    async def put_bytes(self, key: ObjectKey, data: bytes) -> StoredObject:
        return await asyncio.to_thread(self._put, key, data)

    async def get_bytes(self, key: ObjectKey, start: int | None = None, end: int | None = None) -> bytes:
        first, last = check_range(start, end)
        return await asyncio.to_thread(self._get_bytes, key, first, last)

    async def download(self, key: ObjectKey, local_path: Path) -> None:
        await asyncio.to_thread(self._download, key, local_path)

    async def stat(self, key: ObjectKey) -> StoredObject | None:
        return await asyncio.to_thread(self._stat, key)

    async def list(self, model_id: int, revision: str) -> builtins.list[StoredObject]:
        return await asyncio.to_thread(self._list, model_id, revision)

    async def delete_revision(self, model_id: int, revision: str) -> None:
        await asyncio.to_thread(self._delete_revision, model_id, revision)

    # Paths ----------------------------------------------------------------------------------------

    def _inside(self, path: Path) -> Path:
        """``path`` if it resolves (following symlinks) to a place under root, else ``StorageError``."""
        if not path.resolve().is_relative_to(self.root):
            raise StorageError(f"{path} resolves outside the store root {self.root}")
        return path

    def _content_path(self, key: ObjectKey) -> Path:
        return self._inside(self._objects / key.name)

    def _checksum_path(self, key: ObjectKey) -> Path:
        return self._inside(self._checksums / key.name)

    def _ensure_ready(self) -> None:
        for directory in (self._objects, self._checksums, self._tmp):
            directory.mkdir(parents=True, exist_ok=True)

    def _make_parent(self, path: Path) -> None:
        self._inside(path.parent)  # before mkdir: a symlinked ancestor must not get directories made in it
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            why = "conflicts with an existing object (a file where a folder goes)"
            raise StorageError(f"{path} {why}") from None
        self._inside(path.parent)

    # Writes ---------------------------------------------------------------------------------------

    def _put(self, key: ObjectKey, source: Path | bytes) -> StoredObject:
        self._ensure_ready()
        target, sidecar = self._content_path(key), self._checksum_path(key)
        self._make_parent(target)
        self._make_parent(sidecar)
        if target.is_dir():
            raise StorageError(f"{key.name} conflicts with an existing object (a folder where a file is)")
        temp = self._tmp / f"{uuid.uuid4().hex}.part"
        try:
            with temp.open("xb") as out:
                size, sha256 = self._write_content(source, out)
                out.flush()
                os.fsync(out.fileno())
                written = os.stat(out.fileno())
            checksum = {
                "sha256": sha256,
                "size": size,
                "mtime_ns": written.st_mtime_ns,
                "ino": written.st_ino,
            }
            self._write_atomically(sidecar, json.dumps(checksum).encode())
            os.replace(temp, target)
        finally:
            temp.unlink(missing_ok=True)
        return StoredObject(key, size, sha256)

    @staticmethod
    def _write_content(source: Path | bytes, out: BinaryIO) -> tuple[int, str]:
        if isinstance(source, bytes):
            out.write(source)
            return len(source), sha256_bytes(source)
        with source.open("rb") as data:
            return copy_and_hash(data, out)

    def _write_atomically(self, path: Path, data: bytes) -> None:
        temp = self._tmp / f"{uuid.uuid4().hex}.part"
        try:
            temp.write_bytes(data)
            os.replace(temp, path)
        finally:
            temp.unlink(missing_ok=True)

    def _delete_revision(self, model_id: int, revision: str) -> None:
        prefix = revision_prefix(model_id, revision)
        self._ensure_ready()
        for tree in (self._objects, self._checksums):
            directory = self._inside(tree / prefix)
            if not directory.is_dir():
                continue
            # Renamed away first, so the revision disappears at once even if the removal is slow.
            doomed = self._tmp / f"{uuid.uuid4().hex}.deleted"
            os.replace(directory, doomed)
            shutil.rmtree(doomed)

    # Reads ----------------------------------------------------------------------------------------

    def _open(self, key: ObjectKey) -> BinaryIO:
        path = self._content_path(key)
        try:
            if path.is_file():
                return path.open("rb")
        except FileNotFoundError:  # deleted between the check and the open
            pass
        raise ObjectNotFound(key.name)

    def _get_bytes(self, key: ObjectKey, start: int, end: int | None) -> bytes:
        with self._open(key) as content:
            content.seek(start)
            return content.read() if end is None else content.read(end - start)

    def _download(self, key: ObjectKey, local_path: Path) -> None:
        with self._open(key) as content:
            local_path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=f".{local_path.name}.", suffix=".part", dir=local_path.parent)
            try:
                with os.fdopen(fd, "wb") as out:
                    shutil.copyfileobj(content, out, CHUNK_BYTES)
                os.replace(temp, local_path)
            finally:
                Path(temp).unlink(missing_ok=True)

    def _stat(self, key: ObjectKey) -> StoredObject | None:
        path = self._content_path(key)
        return self._stored(key, path) if path.is_file() else None

    def _stored(self, key: ObjectKey, path: Path) -> StoredObject:
        content = path.stat()
        try:
            checksum = json.loads(self._checksum_path(key).read_bytes())
            if (checksum["size"], checksum["mtime_ns"], checksum["ino"]) == (
                content.st_size,
                content.st_mtime_ns,
                content.st_ino,
            ):
                return StoredObject(key, content.st_size, str(checksum["sha256"]))
        except (OSError, ValueError, KeyError, TypeError):
            pass
        size, sha256 = sha256_file(path)
        return StoredObject(key, size, sha256)

    def _list(self, model_id: int, revision: str) -> builtins.list[StoredObject]:
        directory = self._inside(self._objects / revision_prefix(model_id, revision))
        found: builtins.list[StoredObject] = []
        for folder, _, files in os.walk(directory):
            for name in files:
                path = Path(folder, name)
                if path.is_symlink() or not path.is_file():
                    continue
                relative = path.relative_to(directory).as_posix()
                try:
                    key = ObjectKey(model_id, revision, relative)
                except InvalidObjectPath:
                    logger.warning("ignoring %s: not a valid object path", path)
                    continue
                found.append(self._stored(key, path))
        return sorted(found, key=lambda stored: stored.key.path)
