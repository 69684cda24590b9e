"""MinioObjectStore against a real S3 server (moto's, see conftest): metadata, buckets, failures."""

from __future__ import annotations

import hashlib
import io
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from minio import Minio

from budgraph.storage import (
    LocalObjectStore,
    MinioObjectStore,
    ObjectKey,
    StorageError,
    StorageUnavailable,
    StoredObject,
    object_store_from_settings,
)
from tests.storage.conftest import S3Server, free_port, names_in

pytestmark = pytest.mark.slow

KEY = ObjectKey(3, "main", "config.json")


def raw_client(server: S3Server) -> Minio:
    return Minio(server.endpoint, server.access_key, server.secret_key, secure=False, region=server.region)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def test_ensure_ready_creates_the_bucket_once(s3_server: S3Server) -> None:
    bucket = f"budgraph-new-{uuid.uuid4().hex[:8]}"
    store = s3_server.store(bucket)
    assert not raw_client(s3_server).bucket_exists(bucket)

    await store.ensure_ready()
    await store.ensure_ready()

    assert raw_client(s3_server).bucket_exists(bucket)


async def test_a_missing_bucket_is_an_error_not_a_retry(s3_server: S3Server) -> None:
    store = s3_server.store(f"budgraph-absent-{uuid.uuid4().hex[:8]}")

    with pytest.raises(StorageError, match="call ensure_ready") as raised:
        await store.put_bytes(KEY, b"{}")
    assert not isinstance(raised.value, StorageUnavailable)


async def test_sha256_is_kept_as_object_metadata(
    s3_server: S3Server, minio_store: MinioObjectStore, tmp_path: Path
) -> None:
    small = await minio_store.put_bytes(KEY, b'{"a": 1}')
    large_data = bytes(range(256)) * (6 * 4096 + 1)  # over 5 MiB: a multipart upload
    (tmp_path / "large.bin").write_bytes(large_data)
    large = await minio_store.put_file(ObjectKey(3, "main", "large.bin"), tmp_path / "large.bin")

    client = raw_client(s3_server)
    for stored, data in ((small, b'{"a": 1}'), (large, large_data)):
        metadata = client.stat_object(minio_store.bucket, stored.key.name).metadata
        assert metadata is not None
        assert metadata["x-amz-meta-sha256"] == stored.sha256 == sha(data)


async def test_objects_written_without_the_metadata_are_hashed_on_read(
    s3_server: S3Server, minio_store: MinioObjectStore
) -> None:
    client = raw_client(s3_server)
    client.put_object(minio_store.bucket, KEY.name, io.BytesIO(b"foreign"), 7)

    assert await minio_store.stat(KEY) == StoredObject(KEY, 7, sha(b"foreign"))
    assert await minio_store.list(3, "main") == [StoredObject(KEY, 7, sha(b"foreign"))]


async def test_download_checks_the_sha256(
    s3_server: S3Server, minio_store: MinioObjectStore, tmp_path: Path
) -> None:
    client = raw_client(s3_server)
    lying: dict[str, str | list[str] | tuple[str]] = {"x-amz-meta-sha256": sha(b"something else")}
    client.put_object(minio_store.bucket, KEY.name, io.BytesIO(b"content"), 7, metadata=lying)
    target = tmp_path / "config.json"

    with pytest.raises(StorageError, match="does not match its SHA-256"):
        await minio_store.download(KEY, target)
    assert names_in(tmp_path) == []


async def test_an_unreachable_endpoint_is_unavailable() -> None:
    endpoint = f"127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(StorageUnavailable):  # default retries: about a second of backoff
        await MinioObjectStore(endpoint, "k", "s", "bucket", secure=False).ensure_ready()

    store = MinioObjectStore(endpoint, "k", "s", "bucket", secure=False, region="us-east-1", max_retries=0)
    for call in (
        store.ensure_ready(),
        store.put_bytes(KEY, b"x"),
        store.get_bytes(KEY, 0, 8),
        store.stat(KEY),
        store.list(3, "main"),
        store.delete_revision(3, "main"),
    ):
        with pytest.raises(StorageUnavailable):
            await call


class _Unavailable(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def unavailable_endpoint() -> Iterator[str]:
    """A real HTTP server on loopback that answers every request with 503 Service Unavailable."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Unavailable)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_a_server_answering_503_is_unavailable(unavailable_endpoint: str) -> None:
    store = MinioObjectStore(
        unavailable_endpoint, "k", "s", "bucket", secure=False, region="us-east-1", max_retries=1
    )

    with pytest.raises(StorageUnavailable):
        await store.stat(KEY)
    with pytest.raises(StorageUnavailable):
        await store.put_bytes(KEY, b"x")


def test_the_factory_chooses_minio_for_an_endpoint(tmp_path: Path) -> None:
    def configured(endpoint: str | None) -> object:
        return object_store_from_settings(
            minio_endpoint=endpoint,
            minio_access_key="k",
            minio_secret_key="s",
            minio_bucket="models",
            minio_secure=False,
            local_root=tmp_path,
        )

    remote, local, empty = configured("minio:9000"), configured(None), configured("")

    assert isinstance(remote, MinioObjectStore)
    assert remote.bucket == "models"
    assert isinstance(local, LocalObjectStore)
    assert isinstance(empty, LocalObjectStore)
    assert local.root == tmp_path.resolve()
