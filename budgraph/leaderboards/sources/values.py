"""Reading published cells exactly: decimals (never through float), percentages, dates, ranks."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from budgraph.leaderboards.sources.base import JsonScalar
from budgraph.leaderboards.sources.errors import SourceParseError

_BLANKS = frozenset({"", "-", "n/a", "na", "nan", "none", "null"})
_DATE = re.compile(r"^(\d{4})[-_/]?(\d{2})[-_/]?(\d{2})")


def load_json(payload: bytes, what: str) -> Any:
    """JSON with every non-integer number as an exact ``Decimal``."""
    try:
        return json.loads(payload, parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SourceParseError(f"{what}: not JSON ({error})") from error


def load_json_lines(payload: bytes, what: str) -> list[Any]:
    return [load_json(line, what) for line in payload.splitlines() if line.strip()]


def read_csv(payload: bytes, what: str, required: tuple[str, ...]) -> list[dict[str, str]]:
    """Rows of a CSV with a header line that has every ``required`` column."""
    try:
        text = payload.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SourceParseError(f"{what}: not UTF-8 text") from error
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [column for column in required if column not in header]
    if missing:
        raise SourceParseError(f"{what}: missing columns {missing} (header: {header[:8]}...)")
    return [{key: value or "" for key, value in row.items() if key is not None} for row in reader]


def to_decimal(value: object, what: str) -> Decimal | None:
    """A finite decimal from a JSON number or a text cell ("74.24%" reads as 74.24); ``None`` for the
    blanks leaderboards use ("", "N/A", "-", NaN, null). Other text means the format changed."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip().removesuffix("%").strip()
        if text.lower() in _BLANKS:
            return None
        try:
            number = Decimal(text)
        except InvalidOperation as error:
            raise SourceParseError(f"{what}: {value!r} is not a number") from error
    else:
        raise SourceParseError(f"{what}: {value!r} is not a number")
    return number if number.is_finite() else None


def to_int(value: object, what: str) -> int | None:
    number = to_decimal(value, what)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise SourceParseError(f"{what}: {value!r} is not a whole number")
    return int(number)


def to_text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def to_date(value: object) -> date | None:
    """A date from "2024-06-12", "2024-06-12T10:00:00", "20240612" or "2024_06_12"; else ``None``."""
    if not isinstance(value, str):
        return None
    match = _DATE.match(value.strip())
    if match is None:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def scalar(value: object) -> JsonScalar:
    """A JSON-safe value for ``RawEntry.extra`` (decimals become floats: extras are informative)."""
    if isinstance(value, Decimal):
        return float(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def competition_ranks(scores: Mapping[str, Decimal], higher_is_better: bool) -> dict[str, int]:
    """Standard competition ranks ("1224"): equal scores share a rank, the next rank skips."""
    ordered = sorted(scores.items(), key=lambda item: (-item[1] if higher_is_better else item[1], item[0]))
    ranks: dict[str, int] = {}
    previous: Decimal | None = None
    rank = 0
    for position, (name, score) in enumerate(ordered, start=1):
        if score != previous:
            rank, previous = position, score
        ranks[name] = rank
    return ranks
