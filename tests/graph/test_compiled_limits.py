"""A compiled read writes its statement's own values into the SQL (its LIMITs and OFFSETs, the
constants of its conditions and CASEs), so a generic plan (a prepared statement's, planned once
for every value) sees them as they are, and keeps each value of a request a parameter."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import asyncpg
from sqlalchemy import BigInteger, DateTime, bindparam, literal, select

from budgraph import db
from budgraph.kit.direct_reads import CompiledRead
from budgraph.models.repository import named_statement
from tests.live import plain_dsn


def test_a_statements_own_limits_are_in_its_sql() -> None:
    # given a page of 51 after 100 rows, with a lookup of one row inside it
    license_key = select(db.License.key).where(db.License.id == db.Model.license_id).limit(1)
    page = select(db.Model.uri, license_key.scalar_subquery()).order_by(db.Model.id).limit(51).offset(100)

    # when it is compiled for the direct reads
    read = CompiledRead(page)

    # then its limits are written as they are, and nothing but them changed
    assert " LIMIT 1)" in read.sql
    assert read.sql.endswith("LIMIT 51 OFFSET 100")
    assert read.names == ()


def test_a_requests_limit_stays_a_parameter() -> None:
    page = select(db.Model.uri).order_by(db.Model.id).limit(bindparam("limit", type_=BigInteger))
    read = CompiledRead(page)
    assert read.sql.endswith("LIMIT $1::BIGINT")
    assert read.arguments({"limit": 11}) == [11]


def test_a_statements_own_values_are_literals_and_a_requests_are_parameters() -> None:
    # given a statement with constants of its own (a string with a quote, a number, a flag) and a
    # request's value
    stmt = select(db.Model.id).where(
        db.Model.source_kind == "hugging'face",
        db.Model.parameter_count > 7,
        db.Model.gated.is_(True),
        db.Model.uri == bindparam("uri"),
    )

    # when it is compiled
    read = CompiledRead(stmt)

    # then the constants are SQL literals (the quote doubled) and only the request's value is sent
    assert "model.source_kind = 'hugging''face'" in read.sql
    assert "model.parameter_count > 7" in read.sql
    assert "model.gated IS true" in read.sql
    assert "model.uri = $1::VARCHAR" in read.sql
    assert read.names == ("uri",)
    assert read.arguments({"uri": "a/b"}) == ["a/b"]


def test_a_value_without_a_literal_form_stays_a_parameter() -> None:
    # given a constant of a type SQLAlchemy writes no literal of for asyncpg (a timestamp)
    when = datetime(2026, 1, 2, tzinfo=UTC)
    stmt = select(db.Model.id).where(db.Model.created_at > literal(when, DateTime(timezone=True)))

    # when it is compiled, it is sent as a parameter with its value, as before
    read = CompiledRead(stmt)
    assert "$1" in read.sql
    assert read.arguments({}) == [when]


async def _plan_cost(connection: asyncpg.Connection, mode: str) -> tuple[float, str]:
    await connection.execute(f"SET plan_cache_mode = {mode}")
    rows = await connection.fetch("EXPLAIN (FORMAT JSON) EXECUTE by_uri('org-7/model-7')")
    plan = rows[0][0] if isinstance(rows[0][0], list) else json.loads(rows[0][0])
    text = "\n".join(row[0] for row in await connection.fetch("EXPLAIN EXECUTE by_uri('org-7/model-7')"))
    return float(plan[0]["Plan"]["Total Cost"]), text


async def test_the_generic_plan_of_a_model_by_uri_costs_what_its_custom_plan_does(database_url: str) -> None:
    # given 20,000 models, most from the Hub, in a table of this connection's own (a temporary
    # table of the same name, columns and indexes, which the statement reads instead)
    connection = await asyncpg.connect(plain_dsn(database_url))
    try:
        await connection.execute("CREATE TEMPORARY TABLE model (LIKE public.model INCLUDING ALL)")
        await connection.execute(
            "INSERT INTO pg_temp.model (uri, source_kind, modality, status)"
            " SELECT format('org-%s/model-%s', n, n), CASE WHEN n % 10 = 0 THEN 'url' ELSE 'huggingface' END,"
            " 'text', 'ready' FROM generate_series(1, 20000) AS n"
        )
        await connection.execute("ANALYZE pg_temp.model")

        # when the compiled read of a model by uri (an exact match, or a Hub id in any case: the
        # partial index on lower(uri) WHERE source_kind = 'huggingface') is planned once for
        # every value, as PostgreSQL plans a prepared statement it has run a few times
        read = CompiledRead(named_statement(bindparam("uri")).limit(1))
        await connection.execute("PREPARE by_uri AS " + read.sql)
        custom, _ = await _plan_cost(connection, "force_custom_plan")
        generic, plan = await _plan_cost(connection, "force_generic_plan")
    finally:
        await connection.close()

    # then that plan is index lookups, as cheap as the plan for the value (not a scan of every model)
    assert "Seq Scan" not in plan, plan
    assert generic <= 2 * custom, (generic, custom, plan)
