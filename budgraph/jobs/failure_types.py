"""The failure types of the libraries jobs call, sorted into transient and permanent."""

from __future__ import annotations

from budgraph.extraction.errors import ExtractionError, ExtractionFailed, SourceUnavailable
from budgraph.storage import StorageError, StorageUnavailable

TRANSIENT_TYPES: tuple[type[BaseException], ...] = (SourceUnavailable, StorageUnavailable)
# StorageUnavailable subclasses StorageError: is_transient is asked first, so it still retries.
PERMANENT_TYPES: tuple[type[BaseException], ...] = (ExtractionFailed, StorageError)
# Failures whose messages are written for people (what failed, why): shown on the job as they are.
OWN_WORDS: tuple[type[BaseException], ...] = (ExtractionError,)
