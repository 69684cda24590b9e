"""Choose the object store from configuration: MinIO when an endpoint is set, else a local directory."""

from __future__ import annotations

from pathlib import Path

from budgraph.storage.local_store import LocalObjectStore
from budgraph.storage.minio_store import MinioObjectStore
from budgraph.storage.store import ObjectStore


def object_store_from_settings(
    *,
    minio_endpoint: str | None,
    minio_access_key: str | None,
    minio_secret_key: str | None,
    minio_bucket: str,
    minio_secure: bool,
    local_root: Path,
    minio_region: str | None = None,
) -> ObjectStore:
    """``MinioObjectStore`` for a non-empty ``minio_endpoint`` (``host:port``), else ``LocalObjectStore``."""
    if minio_endpoint:
        return MinioObjectStore(
            minio_endpoint,
            minio_access_key,
            minio_secret_key,
            minio_bucket,
            secure=minio_secure,
            region=minio_region,
        )
    return LocalObjectStore(local_root)
