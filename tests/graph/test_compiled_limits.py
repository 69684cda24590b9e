"""A compiled read writes its statement's own LIMIT and OFFSET into the SQL (a generic plan then
estimates them as they are) and keeps a request's value a parameter."""

from __future__ import annotations

from sqlalchemy import BigInteger, bindparam, select

from budgraph import db
from budgraph.kit.direct_reads import CompiledRead


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
