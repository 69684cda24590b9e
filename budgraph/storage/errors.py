"""Failures of the object store: a job retries on ``StorageUnavailable`` and on nothing else."""

from __future__ import annotations


class StorageError(Exception):
    """Any failure of the object store that is not worth retrying as it is."""


class InvalidObjectPath(StorageError):
    """A model id, revision or file path that cannot be used as (part of) an object name."""


class ObjectNotFound(StorageError):
    """The object does not exist."""

    def __init__(self, name: str) -> None:
        super().__init__(f"object {name!r} does not exist")
        self.name = name


class StorageUnavailable(StorageError):
    """A transient failure (network error, timeout, 5xx): the same call may succeed later."""
