"""Opaque global ids: base64url of ``TypeName:primary-key``."""

from __future__ import annotations

import base64
import binascii

from budgraph.kit.errors import InvalidId


def to_global_id(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


MAX_PK = 2**63 - 1  # primary keys are PostgreSQL bigints


def from_global_id(global_id: str) -> tuple[str, int]:
    if len(global_id) > 200:
        raise InvalidId("that is not a valid id (too long)")
    padded = global_id + "=" * (-len(global_id) % 4)
    try:
        type_name, _, raw_pk = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        pk = int(raw_pk)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidId(f"{global_id!r} is not a valid id") from None
    if not type_name or not 0 < pk <= MAX_PK or to_global_id(type_name, pk) != global_id.rstrip("="):
        raise InvalidId(f"{global_id!r} is not a valid id")
    return type_name, pk


def expect_global_id(global_id: str, type_name: str) -> int:
    """The primary key of ``global_id``, which must be an id of ``type_name``."""
    actual, pk = from_global_id(global_id)
    if actual != type_name:
        raise InvalidId(f"{global_id!r} is an id of a {actual}, expected a {type_name}")
    return pk
