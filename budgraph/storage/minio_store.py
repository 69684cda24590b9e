"""Model files in a MinIO (or other S3-compatible) bucket, through the official ``minio`` SDK.

The SDK blocks, so every call runs in a thread (``asyncio.to_thread``). The SHA-256 of each object is
kept as user metadata (``x-amz-meta-sha256``). S3 takes metadata with the request that starts an
upload, so ``put_file`` hashes the file once before uploading and again while uploading; if the two
differ (the file changed meanwhile) the object is removed and ``StorageError`` raised.
"""

from __future__ import annotations

import asyncio
import builtins
import hashlib
import io
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO, cast

import certifi
import urllib3
from minio import Minio
from minio.deleteobjects import DeleteObject
from minio.error import S3Error

from budgraph.storage.digests import CHUNK_BYTES, HashingReader, sha256_bytes, sha256_file
from budgraph.storage.errors import InvalidObjectPath, ObjectNotFound, StorageError
from budgraph.storage.keys import ObjectKey, StoredObject, revision_prefix
from budgraph.storage.minio_errors import translated
from budgraph.storage.store import check_range

SHA256_METADATA = "x-amz-meta-sha256"
_RETRY_STATUSES = (500, 502, 503, 504)


class MinioObjectStore:
    """An ``ObjectStore`` in one bucket; object names are ``models/{model_id}/{revision}/{path}``."""

    def __init__(
        self,
        endpoint: str,
        access_key: str | None,
        secret_key: str | None,
        bucket: str,
        secure: bool,
        region: str | None = None,
        *,
        connect_timeout: float = 10.0,
        read_timeout: float = 120.0,
        max_retries: int = 3,
    ) -> None:
        """``endpoint`` is ``host:port`` without a scheme; ``secure`` chooses https.

        Requests that fail with a connection error or a 500/502/503/504 are retried ``max_retries``
        times with a short backoff before ``StorageUnavailable`` is raised.
        """
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
            maxsize=10,
            cert_reqs="CERT_REQUIRED",
            ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
            retries=urllib3.Retry(total=max_retries, backoff_factor=0.2, status_forcelist=_RETRY_STATUSES),
        )
        self.bucket = bucket
        self._client = Minio(endpoint, access_key, secret_key, secure=secure, region=region, http_client=http)

    async def ensure_ready(self) -> None:
        await asyncio.to_thread(self._ensure_ready)

    async def put_file(self, key: ObjectKey, local_path: Path) -> StoredObject:
        return await asyncio.to_thread(self._put_file, key, local_path)

    async def put_bytes(self, key: ObjectKey, data: bytes) -> StoredObject:
        return await asyncio.to_thread(self._put_bytes, key, data)

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

    # Writes ---------------------------------------------------------------------------------------

    def _ensure_ready(self) -> None:
        with translated(f"bucket {self.bucket}"):
            if self._client.bucket_exists(self.bucket):
                return
            try:
                self._client.make_bucket(self.bucket)
            except S3Error as error:  # another replica created it first
                if error.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise

    def _put_file(self, key: ObjectKey, local_path: Path) -> StoredObject:
        size, sha256 = sha256_file(local_path)
        with local_path.open("rb") as content, translated(key.name):
            reader = HashingReader(content)
            self._client.put_object(
                self.bucket, key.name, cast(BinaryIO, reader), size, metadata={SHA256_METADATA: sha256}
            )
            if (reader.size, reader.hexdigest()) != (size, sha256):
                self._client.remove_object(self.bucket, key.name)
                raise StorageError(f"{local_path} changed while it was uploaded to {key.name}")
        return StoredObject(key, size, sha256)

    def _put_bytes(self, key: ObjectKey, data: bytes) -> StoredObject:
        sha256 = sha256_bytes(data)
        with translated(key.name):
            self._client.put_object(
                self.bucket, key.name, io.BytesIO(data), len(data), metadata={SHA256_METADATA: sha256}
            )
        return StoredObject(key, len(data), sha256)

    def _delete_revision(self, model_id: int, revision: str) -> None:
        prefix = revision_prefix(model_id, revision)
        with translated(prefix):
            names = [
                item.object_name
                for item in self._client.list_objects(self.bucket, prefix=prefix, recursive=True)
                if item.object_name is not None
            ]
            # remove_objects sends batches of 1000 lazily: its result must be consumed.
            errors = list(self._client.remove_objects(self.bucket, (DeleteObject(name) for name in names)))
        if errors:
            raise StorageError(f"could not delete {len(errors)} objects under {prefix}: {errors[0]}")

    # Reads ----------------------------------------------------------------------------------------

    def _get_bytes(self, key: ObjectKey, start: int, end: int | None) -> bytes:
        if end == start:  # S3 has no empty range; still fail on a missing object
            if self._stat(key) is None:
                raise ObjectNotFound(key.name)
            return b""
        length = 0 if end is None else end - start
        with translated(key.name):
            try:
                response = self._client.get_object(self.bucket, key.name, offset=start, length=length)
            except S3Error as error:
                if error.code != "InvalidRange":  # starts at or past the end
                    raise
                if self._stat(key) is None:
                    raise ObjectNotFound(key.name) from None
                return b""
            try:
                data = response.read()
            finally:
                response.close()
                response.release_conn()
        if response.status == 200 and (start or end is not None):  # a server that ignored Range
            return data[start:end]
        return data

    def _download(self, key: ObjectKey, local_path: Path) -> None:
        local_path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{local_path.name}.", suffix=".part", dir=local_path.parent)
        try:
            with os.fdopen(fd, "wb") as out, translated(key.name):
                response = self._client.get_object(self.bucket, key.name)
                try:
                    digest = hashlib.sha256()
                    for chunk in response.stream(CHUNK_BYTES):
                        digest.update(chunk)
                        out.write(chunk)
                finally:
                    response.close()
                    response.release_conn()
            expected = response.headers.get(SHA256_METADATA)
            if expected is not None and expected != digest.hexdigest():
                raise StorageError(f"{key.name} does not match its SHA-256 {expected}")
            os.replace(temp, local_path)
        finally:
            Path(temp).unlink(missing_ok=True)

    def _stat(self, key: ObjectKey) -> StoredObject | None:
        try:
            with translated(key.name):
                found = self._client.stat_object(self.bucket, key.name)
        except ObjectNotFound:
            return None
        sha256 = found.metadata.get(SHA256_METADATA) if found.metadata is not None else None
        return StoredObject(key, found.size or 0, sha256 or self._hash_content(key))

    def _hash_content(self, key: ObjectKey) -> str:
        """SHA-256 of an object written without the metadata (not by this class): read it whole."""
        digest = hashlib.sha256()
        with translated(key.name):
            response = self._client.get_object(self.bucket, key.name)
            try:
                for chunk in response.stream(CHUNK_BYTES):
                    digest.update(chunk)
            finally:
                response.close()
                response.release_conn()
        return digest.hexdigest()

    def _list(self, model_id: int, revision: str) -> builtins.list[StoredObject]:
        prefix = revision_prefix(model_id, revision)
        found: builtins.list[StoredObject] = []
        with translated(prefix):
            # MinIO returns user metadata in the listing; other servers need a HEAD per object.
            list_objects = self._client.list_objects
            for item in list_objects(self.bucket, prefix=prefix, recursive=True, include_user_meta=True):
                if item.object_name is None or item.is_dir:
                    continue
                try:
                    key = ObjectKey(model_id, revision, item.object_name.removeprefix(prefix))
                except InvalidObjectPath:
                    continue
                sha256 = _metadata_value(item.metadata, SHA256_METADATA)
                if sha256 is None:
                    stored = self._stat(key)
                    if stored is not None:
                        found.append(stored)
                else:
                    found.append(StoredObject(key, item.size or 0, sha256))
        return sorted(found, key=lambda stored: stored.key.path)


def _metadata_value(metadata: Mapping[str, str] | None, name: str) -> str | None:
    if not metadata:
        return None
    for field, value in metadata.items():
        if str(field).lower() == name:
            return str(value)
    return None
