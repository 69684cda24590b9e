"""Model files: an async object store (local directory or MinIO) and safe unpacking of uploaded archives."""

from budgraph.storage.archives import (
    ArchiveLimits,
    ExtractedFile,
    UnsafeArchive,
    UnsafeArchiveReason,
    safe_extract,
)
from budgraph.storage.errors import InvalidObjectPath, ObjectNotFound, StorageError, StorageUnavailable
from budgraph.storage.factory import object_store_from_settings
from budgraph.storage.keys import ObjectKey, StoredObject
from budgraph.storage.local_store import LocalObjectStore
from budgraph.storage.minio_store import MinioObjectStore
from budgraph.storage.store import ObjectStore

__all__ = [
    "ArchiveLimits",
    "ExtractedFile",
    "InvalidObjectPath",
    "LocalObjectStore",
    "MinioObjectStore",
    "ObjectKey",
    "ObjectNotFound",
    "ObjectStore",
    "StorageError",
    "StorageUnavailable",
    "StoredObject",
    "UnsafeArchive",
    "UnsafeArchiveReason",
    "object_store_from_settings",
    "safe_extract",
]
