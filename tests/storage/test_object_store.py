"""What every ObjectStore backend does alike: run against the local directory and the S3 server."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import struct
from pathlib import Path

import pytest

from budgraph.storage import ObjectKey, ObjectNotFound, ObjectStore, StoredObject
from tests.storage.conftest import names_in

CONTENT = b"0123456789"


def key(path: str, *, model_id: int = 7, revision: str = "main") -> ObjectKey:
    return ObjectKey(model_id, revision, path)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def test_put_bytes_then_stat_get_and_list(store: ObjectStore) -> None:
    stored = await store.put_bytes(key("config.json"), b'{"a": 1}')

    assert stored == StoredObject(key("config.json"), 8, sha(b'{"a": 1}'))
    assert await store.stat(key("config.json")) == stored
    assert await store.get_bytes(key("config.json")) == b'{"a": 1}'
    assert await store.list(7, "main") == [stored]


async def test_put_file_streams_a_multipart_sized_file(store: ObjectStore, tmp_path: Path) -> None:
    data = os.urandom(11 * 1024 * 1024 + 5)  # more than two 5 MiB parts on S3
    source = tmp_path / "model.safetensors"
    source.write_bytes(data)

    stored = await store.put_file(key("model.safetensors"), source)

    assert stored == StoredObject(key("model.safetensors"), len(data), sha(data))
    assert await store.stat(key("model.safetensors")) == stored
    assert (
        await store.get_bytes(key("model.safetensors"), 5 * 1024 * 1024 - 3, 5 * 1024 * 1024 + 3)
        == (data[5 * 1024 * 1024 - 3 : 5 * 1024 * 1024 + 3])
    )


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (None, None),
        (0, 1),
        (2, 5),
        (None, 4),
        (6, None),
        (9, 10),
        (3, 3),
        (8, 100),
        (10, None),
        (12, 20),
        (0, 0),
    ],
)
async def test_byte_ranges_behave_like_slices(store: ObjectStore, start: int | None, end: int | None) -> None:
    await store.put_bytes(key("range.bin"), CONTENT)

    assert await store.get_bytes(key("range.bin"), start, end) == CONTENT[start:end]


async def test_ranges_of_an_empty_object(store: ObjectStore) -> None:
    await store.put_bytes(key("empty"), b"")

    assert await store.stat(key("empty")) == StoredObject(key("empty"), 0, sha(b""))
    assert await store.get_bytes(key("empty")) == b""
    assert await store.get_bytes(key("empty"), 0, 8) == b""


async def test_reading_a_safetensors_header_with_two_ranges(store: ObjectStore) -> None:
    header = json.dumps({"weight": {"dtype": "F16", "shape": [2, 2], "data_offsets": [0, 8]}}).encode()
    await store.put_bytes(key("model.safetensors"), struct.pack("<Q", len(header)) + header + bytes(8))

    (length,) = struct.unpack("<Q", await store.get_bytes(key("model.safetensors"), 0, 8))
    parsed = json.loads(await store.get_bytes(key("model.safetensors"), 8, 8 + length))

    assert parsed["weight"]["shape"] == [2, 2]


@pytest.mark.parametrize(("start", "end"), [(-1, None), (None, -1), (5, 2)])
async def test_invalid_ranges_are_refused(store: ObjectStore, start: int | None, end: int | None) -> None:
    with pytest.raises(ValueError, match="byte range"):
        await store.get_bytes(key("any"), start, end)


async def test_missing_objects(store: ObjectStore, tmp_path: Path) -> None:
    assert await store.stat(key("missing")) is None
    for start, end in [(None, None), (0, 4), (4, 4), (100, None)]:
        with pytest.raises(ObjectNotFound, match="models/7/main/missing"):
            await store.get_bytes(key("missing"), start, end)
    (tmp_path / "out").mkdir()
    with pytest.raises(ObjectNotFound):
        await store.download(key("missing"), tmp_path / "out" / "missing")
    assert names_in(tmp_path / "out") == []
    assert await store.list(7, "main") == []


async def test_putting_again_replaces_the_object(store: ObjectStore) -> None:
    await store.put_bytes(key("config.json"), b"old")
    replaced = await store.put_bytes(key("config.json"), b"newer")

    assert (
        await store.stat(key("config.json")) == replaced == StoredObject(key("config.json"), 5, sha(b"newer"))
    )
    assert await store.get_bytes(key("config.json")) == b"newer"


async def test_list_is_sorted_and_limited_to_one_revision(store: ObjectStore) -> None:
    wanted = [key("tokenizer/vocab.json"), key("b.bin"), key("a.bin"), key("tokenizer/merges.txt")]
    for item in wanted:
        await store.put_bytes(item, item.path.encode())
    await store.put_bytes(key("a.bin", revision="main2"), b"other revision")
    await store.put_bytes(key("a.bin", model_id=70), b"other model")

    listed = await store.list(7, "main")

    assert [item.key.path for item in listed] == [
        "a.bin",
        "b.bin",
        "tokenizer/merges.txt",
        "tokenizer/vocab.json",
    ]
    assert [item.sha256 for item in listed] == [sha(item.key.path.encode()) for item in listed]


async def test_delete_revision_removes_that_revision_only(store: ObjectStore) -> None:
    for path in ("a.bin", "nested/deep/b.bin"):
        await store.put_bytes(key(path), b"x")
    kept = await store.put_bytes(key("a.bin", revision="v2"), b"kept")

    await store.delete_revision(7, "main")
    await store.delete_revision(7, "main")  # again: nothing to do
    await store.delete_revision(8, "never-written")

    assert await store.list(7, "main") == []
    assert await store.stat(key("a.bin")) is None
    assert await store.list(7, "v2") == [kept]


async def test_download_replaces_the_target_whole(store: ObjectStore, tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024)
    await store.put_bytes(key("weights.bin"), data)
    target = tmp_path / "cache" / "nested" / "weights.bin"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"stale")

    await store.download(key("weights.bin"), target)

    assert target.read_bytes() == data
    assert names_in(target.parent) == ["weights.bin"]  # no temporary file left


async def test_concurrent_puts(store: ObjectStore) -> None:
    stored = await asyncio.gather(
        *(store.put_bytes(key(f"shard-{i:02}.bin"), bytes([i]) * i) for i in range(12))
    )

    assert await store.list(7, "main") == sorted(stored, key=lambda item: item.key.path)


async def test_ensure_ready_twice(store: ObjectStore) -> None:
    await store.ensure_ready()
    await store.ensure_ready()
    await store.put_bytes(key("a"), b"a")

    assert await store.get_bytes(key("a")) == b"a"
