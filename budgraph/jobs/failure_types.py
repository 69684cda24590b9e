"""The failure types of the libraries jobs call, sorted into transient and permanent."""

from __future__ import annotations

from budgraph.extraction.errors import ExtractionFailed, SourceUnavailable
from budgraph.storage import StorageError, StorageUnavailable

TRANSIENT_TYPES: tuple[type[BaseException], ...] = (SourceUnavailable, StorageUnavailable)
# StorageUnavailable subclasses StorageError: is_transient is asked first, so it still retries.
PERMANENT_TYPES: tuple[type[BaseException], ...] = (ExtractionFailed, StorageError)
