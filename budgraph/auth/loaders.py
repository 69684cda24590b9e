"""Per-request loaders of API keys."""

from __future__ import annotations

from budgraph import db
from budgraph.kit.loaders import RowByIdLoader


class ApiKeyByIdLoader(RowByIdLoader[db.ApiKey]):
    table = db.ApiKey
