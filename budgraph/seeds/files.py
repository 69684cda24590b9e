"""Reading the seed files shipped inside the package."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data"

Record = dict[str, Any]


def records(name: str, data_dir: Path = DATA_DIR) -> list[Record]:
    with (data_dir / f"{name}.json").open(encoding="utf-8") as handle:
        loaded: list[Record] = json.load(handle)["records"]
    return loaded


def decimal_or_none(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


def date_or_none(value: str | None) -> date | None:
    return date.fromisoformat(value) if value is not None else None


def origin_of(record: Record) -> dict[str, Any]:
    return {"source": record.get("source"), "source_url": record.get("source_url")}
