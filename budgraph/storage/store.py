"""The object store of model files: one protocol, a local-directory and a MinIO (S3) backend."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Protocol

from budgraph.storage.keys import ObjectKey, StoredObject


class ObjectStore(Protocol):
    """Async access to model files; every method may raise ``StorageUnavailable`` (retry later)."""

    async def ensure_ready(self) -> None:
        """Create what the store needs (the bucket, the root directory) if it is missing."""

    async def put_file(self, key: ObjectKey, local_path: Path) -> StoredObject:
        """Upload a local file (streamed, never read into memory whole), replacing any object at key."""

    async def put_bytes(self, key: ObjectKey, data: bytes) -> StoredObject:
        """Store ``data`` at key, replacing any object there."""

    async def get_bytes(self, key: ObjectKey, start: int | None = None, end: int | None = None) -> bytes:
        """The bytes ``content[start:end]`` (``end`` exclusive, both >= 0); ``ObjectNotFound`` if missing.

        A range past the end is cut short, as a slice would be: ``get_bytes(key, 0, 8)`` of a 5-byte
        object returns 5 bytes.
        """

    async def download(self, key: ObjectKey, local_path: Path) -> None:
        """Write the object to ``local_path`` atomically (a temporary file renamed into place)."""

    async def stat(self, key: ObjectKey) -> StoredObject | None:
        """Size and SHA-256 of the object, ``None`` if it does not exist."""

    async def list(self, model_id: int, revision: str) -> builtins.list[StoredObject]:
        """Every object of one revision, sorted by path."""

    async def delete_revision(self, model_id: int, revision: str) -> None:
        """Delete every object of one revision; deleting a missing revision does nothing."""


def check_range(start: int | None, end: int | None) -> tuple[int, int | None]:
    """Validate a ``get_bytes`` range; returns ``(start, end)`` with ``start`` defaulted to 0."""
    first = 0 if start is None else start
    if first < 0 or (end is not None and end < 0):
        raise ValueError(f"byte range [{start}, {end}) must not be negative")
    if end is not None and end < first:
        raise ValueError(f"byte range [{start}, {end}) ends before it starts")
    return first, end
