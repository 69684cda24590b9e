"""LocalObjectStore specifics: its layout, checksum sidecars, atomic writes, and staying inside root."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from budgraph.storage import LocalObjectStore, ObjectKey, StorageError, StoredObject
from tests.storage.conftest import names_in

KEY = ObjectKey(5, "main", "tokenizer/vocab.json")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def test_layout_and_sidecar(local_store: LocalObjectStore) -> None:
    await local_store.put_bytes(KEY, b"{}")

    root = local_store.root
    assert (root / "objects/models/5/main/tokenizer/vocab.json").read_bytes() == b"{}"
    sidecar = json.loads((root / "checksums/models/5/main/tokenizer/vocab.json").read_text())
    assert sidecar["sha256"] == sha(b"{}")
    assert sidecar["size"] == 2
    assert names_in(root / ".tmp") == []


async def test_ensure_ready_creates_the_root(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "not" / "yet")

    await store.ensure_ready()

    assert names_in(tmp_path / "not" / "yet") == [".tmp", "checksums", "objects"]


async def test_a_stale_sidecar_is_not_trusted(local_store: LocalObjectStore) -> None:
    await local_store.put_bytes(KEY, b"original")
    content = local_store.root / "objects" / KEY.name
    content.write_bytes(b"changed by hand")

    assert await local_store.stat(KEY) == StoredObject(KEY, 15, sha(b"changed by hand"))
    assert await local_store.list(5, "main") == [StoredObject(KEY, 15, sha(b"changed by hand"))]


async def test_a_missing_sidecar_is_recomputed(local_store: LocalObjectStore) -> None:
    await local_store.put_bytes(KEY, b"content")
    (local_store.root / "checksums" / KEY.name).unlink()

    assert await local_store.stat(KEY) == StoredObject(KEY, 7, sha(b"content"))


async def test_a_failed_put_leaves_the_old_object(local_store: LocalObjectStore, tmp_path: Path) -> None:
    await local_store.put_bytes(KEY, b"old")

    with pytest.raises(FileNotFoundError):
        await local_store.put_file(KEY, tmp_path / "does-not-exist")

    assert await local_store.get_bytes(KEY) == b"old"
    assert await local_store.stat(KEY) == StoredObject(KEY, 3, sha(b"old"))
    assert names_in(local_store.root / ".tmp") == []


async def test_a_symlink_out_of_root_is_not_followed(local_store: LocalObjectStore, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    models = local_store.root / "objects" / "models"
    models.mkdir(parents=True)
    (models / "5").symlink_to(outside, target_is_directory=True)
    (outside / "main").mkdir()
    (outside / "main" / "secret").write_bytes(b"not yours")

    with pytest.raises(StorageError, match="outside the store root"):
        await local_store.put_bytes(ObjectKey(5, "main", "new/file.bin"), b"x")
    with pytest.raises(StorageError, match="outside the store root"):
        await local_store.get_bytes(ObjectKey(5, "main", "secret"))
    with pytest.raises(StorageError, match="outside the store root"):
        await local_store.delete_revision(5, "main")

    assert names_in(outside) == ["main"]
    assert names_in(outside / "main") == ["secret"]


async def test_a_file_and_a_folder_cannot_share_a_path(local_store: LocalObjectStore) -> None:
    await local_store.put_bytes(ObjectKey(5, "main", "a"), b"file")
    await local_store.put_bytes(ObjectKey(5, "main", "b/c"), b"file in folder")

    with pytest.raises(StorageError, match="conflicts with an existing object"):
        await local_store.put_bytes(ObjectKey(5, "main", "a/b"), b"x")
    with pytest.raises(StorageError, match="conflicts with an existing object"):
        await local_store.put_bytes(ObjectKey(5, "main", "b"), b"x")
    assert [item.key.path for item in await local_store.list(5, "main")] == ["a", "b/c"]


async def test_files_that_are_no_valid_object_are_not_listed(local_store: LocalObjectStore) -> None:
    await local_store.put_bytes(KEY, b"{}")
    folder = local_store.root / "objects" / "models" / "5" / "main"
    (folder / "back\\slash").write_bytes(b"made by hand")
    os.symlink("/etc/hostname", folder / "link")

    assert [item.key for item in await local_store.list(5, "main")] == [KEY]
