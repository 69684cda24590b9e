"""Opaque keyset cursors: the sort-key values of one row, and the sort order they belong to.

A cursor is base64url of JSON ``{"o": <ordering id>, "k": [[tag, value], ...]}``; tags keep the
exact type of each value (a date stays a date, a price stays an exact decimal). Whatever a client
sends is checked before it reaches SQL: a cursor that is not ours, is made for another order, or
holds a value its sort key cannot hold is INVALID_CURSOR, never a database error.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, SmallInteger

from budgraph.kit.errors import BudgraphError, ErrorCode
from budgraph.kit.ordering import SortKey

CursorValue = str | int | bool | Decimal | date | datetime | None
MAX_CURSOR_LENGTH = 8192
_MAX_DECIMAL_EXPONENT = 1000
_INT_BITS = {SmallInteger: 16, BigInteger: 64, Integer: 32}


@dataclass(frozen=True)
class Cursor:
    """A position in a sorted list: just after (or before) the row with these sort-key values."""

    ordering: str
    values: tuple[CursorValue, ...]


def encode_cursor(ordering: str, values: Sequence[CursorValue]) -> str:
    body = {"o": ordering, "k": [_tagged(value) for value in values]}
    return base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode()).decode()


def decode_cursor(text: str, field: str) -> Cursor:
    """The cursor a client sent; INVALID_CURSOR (naming ``field``) unless it is one of ours."""
    try:
        if len(text) > MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        body = json.loads(base64.urlsafe_b64decode(text.encode("ascii")))
        ordering, tagged = body["o"], body["k"]
        if not isinstance(ordering, str) or not isinstance(tagged, list):
            raise ValueError("not a cursor")
        return Cursor(ordering, tuple(_untagged(item) for item in tagged))
    except (binascii.Error, UnicodeError, ValueError, TypeError, KeyError, InvalidOperation):
        raise invalid(text, field) from None


def invalid(text: str, field: str, why: str = "") -> BudgraphError:
    shown = text if len(text) <= 64 else text[:61] + "..."
    return BudgraphError(
        f"`{field}` {shown!r} is not a valid cursor{why}", code=ErrorCode.INVALID_CURSOR, field=field
    )


def check_fits(cursor: Cursor, ordering: str, keys: Sequence[SortKey], text: str, field: str) -> None:
    """Refuse a cursor of another sort order, or with values its sort keys cannot hold."""
    if cursor.ordering != ordering or len(cursor.values) != len(keys):
        raise invalid(text, field, " for this list in this order")
    for value, key in zip(cursor.values, keys, strict=True):
        if value is not None and not _fits(value, key):
            raise invalid(text, field)


def _fits(value: CursorValue, key: SortKey) -> bool:
    column_type = key.expression.type
    try:
        expected: type[Any] | None = column_type.python_type
    except NotImplementedError:
        expected = None
    if expected is not None and type(value) is not expected:
        return False
    if isinstance(value, int) and not isinstance(value, bool):
        bits = next((b for kind, b in _INT_BITS.items() if isinstance(column_type, kind)), 64)
        limit: int = 2 ** (bits - 1)
        return -limit <= value < limit
    if isinstance(value, datetime) and isinstance(column_type, DateTime) and column_type.timezone:
        return value.tzinfo is not None
    return True


def _tagged(value: CursorValue) -> list[Any]:
    if value is None:
        return ["z", None]
    if isinstance(value, bool):
        return ["b", value]
    if isinstance(value, int):
        return ["i", value]
    if isinstance(value, Decimal):
        return ["n", str(value)]
    if isinstance(value, datetime):
        return ["t", value.isoformat()]
    if isinstance(value, date):
        return ["d", value.isoformat()]
    if isinstance(value, str):
        return ["s", value]
    raise TypeError(f"a sort key of type {type(value).__name__} cannot be put in a cursor")


def _untagged(item: Any) -> CursorValue:
    tag, raw = item
    if tag == "z" and raw is None:
        return None
    if tag == "b" and isinstance(raw, bool):
        return raw
    if tag == "i" and isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if tag == "n" and isinstance(raw, str):
        number = Decimal(raw)
        if number.is_finite() and abs(number.adjusted()) <= _MAX_DECIMAL_EXPONENT:
            return number
    if tag == "t" and isinstance(raw, str):
        return datetime.fromisoformat(raw)
    if tag == "d" and isinstance(raw, str):
        return date.fromisoformat(raw)
    if tag == "s" and isinstance(raw, str) and "\x00" not in raw:
        return raw
    raise ValueError("not a cursor value")
