"""One-statement reads for the direct answers: compiled once, run on a lean asyncpg pool.

A direct answer (budgraph/graphql/direct.py) is one statement that also reads the registry
position it belongs to. Its SQL is built with SQLAlchemy Core (from the domains' repositories),
compiled once per shape, and run here with asyncpg's prepared-statement cache: one round trip,
outside any transaction (a single statement sees one snapshot), with no ORM or session in the way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import asyncpg
from sqlalchemy import BindParameter, Select, exc, make_url
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect

from budgraph.kit.lean_pool import LeanPool
from budgraph.settings import Settings

# The kinds of a statement's own values that are written into its SQL (as PostgreSQL literals).
_WRITTEN = (str, int, bool, float, Decimal)


def _constant(bind: BindParameter[Any]) -> bool:
    """A value the statement itself gives (``source_kind == "huggingface"``, ``.limit(1)``, a
    ``CASE`` of enum names): an anonymous parameter with its value, never a request's (those are
    named and have none: ``bindparam("uri")``)."""
    return (
        bind.unique
        and not bind.required
        and not bind.expanding
        and bind.callable is None
        and isinstance(bind.value, _WRITTEN)
    )


class _Compiler(asyncpg_dialect.PGCompiler_asyncpg):
    def visit_bindparam(self, bindparam: BindParameter[Any], **kw: Any) -> str:  # type: ignore[override]
        """A statement's own values are written into its SQL, a request's stay parameters. These
        reads are prepared statements, and PostgreSQL plans a prepared statement once for all
        values (a generic plan) as soon as that looks no worse than planning each execution: with
        its own values as parameters, a generic plan cannot use a partial index (a model by uri,
        ``WHERE source_kind = 'huggingface'``: a sequential scan of every model) and guesses a
        LIMIT at a tenth of the rows, so PostgreSQL kept planning every execution afresh, which
        cost more than running it (1.3 of a model's 3.1 ms; 1.7 of 4.1 ms at 10x) and grew with the data."""
        if _constant(bindparam) and not kw.get("literal_binds"):
            try:
                literal = {**kw, "literal_binds": True}
                text: str = super().visit_bindparam(bindparam, **literal)  # type: ignore[no-untyped-call]
                return text
            except (exc.CompileError, NotImplementedError):
                pass  # a type without a literal form (rendered as a parameter, as before)
        written: str = super().visit_bindparam(bindparam, **kw)  # type: ignore[no-untyped-call]
        return written


class _Dialect(asyncpg_dialect.dialect):
    statement_compiler = _Compiler


_DIALECT = _Dialect(paramstyle="numeric_dollar")  # type: ignore[no-untyped-call]


class CompiledRead:
    """A statement compiled to asyncpg's SQL once, run with its parameters by name."""

    def __init__(self, statement: Select[Any]) -> None:
        compiled = statement.compile(dialect=_DIALECT)
        self.sql = str(compiled)
        self.names: Sequence[str] = tuple(compiled.positiontup or ())
        self.constants: dict[str, Any] = dict(compiled.params)  # the statement's own literal values

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        given = {**self.constants, **values}
        return [given[name] for name in self.names]


async def _init(connection: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await connection.set_type_codec(kind, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


class DirectReads:
    """A small pool of asyncpg connections of its own (``db_pool_size`` at most), opened on first
    use (budgraph/kit/lean_pool.py)."""

    def __init__(self, settings: Settings, database_url: str) -> None:
        url = make_url(database_url).set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._settings = settings
        self._pool = LeanPool(self._connect, settings.db_pool_size, settings.db_pool_timeout_seconds)

    async def _connect(self) -> asyncpg.Connection:
        settings = self._settings
        connection = await asyncpg.connect(
            self._dsn,
            timeout=settings.db_connect_timeout_seconds,
            command_timeout=settings.db_statement_timeout_ms / 1000 + 1.0,
            # UTC: compiled answers write timestamps in SQL, as Python writes them
            server_settings={"statement_timeout": str(settings.db_statement_timeout_ms), "TimeZone": "UTC"},
        )
        try:
            await _init(connection)
        except BaseException:
            connection.terminate()
            raise
        return connection

    async def fetch(self, read: CompiledRead, values: Mapping[str, Any]) -> list[asyncpg.Record]:
        return await self._pool.fetch(read.sql, read.arguments(values))

    async def close(self) -> None:
        await self._pool.close()
