"""MinIO SDK and urllib3 exceptions turned into the store's own: missing, transient or neither."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import urllib3
from minio.error import InvalidResponseError, MinioException, S3Error, ServerError

from budgraph.storage.errors import ObjectNotFound, StorageError, StorageUnavailable

_MISSING = frozenset({"NoSuchKey", "NoSuchObject"})
# Codes S3 and MinIO use for "try again later" (some come with a 4xx status).
_TRANSIENT = frozenset(
    {
        "InternalError",
        "RequestTimeout",
        "ServiceUnavailable",
        "SlowDown",
        "XMinioServerNotInitialized",
        "XMinioReadQuorum",
        "XMinioWriteQuorum",
    }
)


@contextmanager
def translated(name: str) -> Iterator[None]:
    """Raise ``ObjectNotFound``, ``StorageUnavailable`` or ``StorageError`` for SDK failures on ``name``."""
    try:
        yield
    except S3Error as error:
        if error.code in _MISSING:
            raise ObjectNotFound(name) from error
        if error.code in _TRANSIENT or error.response.status >= 500:
            raise StorageUnavailable(f"{name}: {error.code}: {error.message}") from error
        if error.code == "NoSuchBucket":
            raise StorageError(f"{name}: the bucket does not exist (call ensure_ready)") from error
        raise StorageError(f"{name}: {error.code}: {error.message}") from error
    except ServerError as error:  # an error status without an S3 error document
        kind = StorageUnavailable if error.status_code >= 500 else StorageError
        raise kind(f"{name}: HTTP {error.status_code}") from error
    except InvalidResponseError as error:  # e.g. a proxy's HTML error page
        status = int(getattr(error, "_code", 0) or 0)
        raise (StorageUnavailable if status >= 500 else StorageError)(f"{name}: {error}") from error
    except urllib3.exceptions.HTTPError as error:  # connection refused, timeouts, retries exhausted
        raise StorageUnavailable(f"{name}: {error}") from error
    except MinioException as error:
        raise StorageError(f"{name}: {error}") from error
