"""Hugging Face's dataset viewer API (datasets-server): a dataset's rows as JSON, 100 per page.

``/rows`` pages through a split; ``/filter`` does the same for rows matching a ``where`` clause.
A page is ``{"features": [...], "rows": [{"row_idx": 0, "row": {...}, "truncated_cells": []}],
"num_rows_total": N, "num_rows_per_page": 100, "partial": false}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from budgraph.leaderboards.sources.base import SourceRequest, SourceSettings
from budgraph.leaderboards.sources.errors import SourceParseError
from budgraph.leaderboards.sources.values import load_json

DATASETS_SERVER = "https://datasets-server.huggingface.co"
PAGE_LENGTH = 100  # the server's maximum


def first_page(
    endpoint: Literal["rows", "filter"], params: Mapping[str, str], settings: SourceSettings
) -> SourceRequest:
    query = urlencode({**params, "offset": "0", "length": str(PAGE_LENGTH)})
    headers = {"Accept": "application/json"}
    if settings.hf_token:
        headers["Authorization"] = f"Bearer {settings.hf_token}"
    return SourceRequest(f"{DATASETS_SERVER}/{endpoint}?{query}", headers)


def next_page(request: SourceRequest, body: bytes, max_rows: int) -> list[SourceRequest]:
    """The request for the page after ``body``, while rows remain and fewer than ``max_rows`` were read."""
    rows, total = page_rows(body, request.url)
    parts = urlsplit(request.url)
    query = dict(parse_qsl(parts.query))
    following = int(query.get("offset", "0")) + len(rows)
    if not rows or following >= min(total, max_rows):
        return []
    query["offset"] = str(following)
    return [SourceRequest(urlunsplit(parts._replace(query=urlencode(query))), dict(request.headers))]


def page_rows(body: bytes, what: str) -> tuple[list[Mapping[str, Any]], int]:
    """The row objects of one page and the split's total row count."""
    page = load_json(body, what)
    if not isinstance(page, dict) or not isinstance(page.get("rows"), list):
        raise SourceParseError(f"{what}: not a datasets-server page (no 'rows' list)")
    total = page.get("num_rows_total")
    if not isinstance(total, int):
        raise SourceParseError(f"{what}: 'num_rows_total' is missing")
    rows: list[Mapping[str, Any]] = []
    for item in page["rows"]:
        row = item.get("row") if isinstance(item, dict) else None
        if not isinstance(row, dict):
            raise SourceParseError(f"{what}: a row is not an object")
        rows.append(row)
    return rows, total


def all_rows(payloads: Sequence[bytes], what: str) -> list[Mapping[str, Any]]:
    rows: list[Mapping[str, Any]] = []
    for payload in payloads:
        rows.extend(page_rows(payload, what)[0])
    return rows
