"""Property-based: every filter and every mutation, fed hostile inputs generated from the schema.

Given the app served for real, when hypothesis sends each list field with a `filter` and each
mutation inputs drawn from its own argument types (``schema_inputs.py``), then no answer is a 5xx
or a masked internal error, every error carries a known code, a refused write leaves the registry
version where it was, and a cheap query still answers after each case.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from graphql import GraphQLField, GraphQLNonNull, GraphQLObjectType, get_named_type, is_leaf_type
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from budgraph.db.enums import ApiKeyScope
from budgraph.graphql.schema import schema
from budgraph.kit.errors import ErrorCode
from tests.conftest import live_key
from tests.hardening.schema_inputs import value
from tests.live import LiveServer

GRAPHQL = schema._schema
KNOWN_CODES = {code.value for code in ErrorCode} - {ErrorCode.INTERNAL_SERVER_ERROR.value}
EXAMPLES = 25


def _document(kind: str, name: str, field: GraphQLField) -> str:
    variables = ", ".join(f"${arg}: {definition.type}" for arg, definition in field.args.items())
    arguments = ", ".join(f"{arg}: ${arg}" for arg in field.args)
    selection = "" if is_leaf_type(get_named_type(field.type)) else " { __typename }"
    head = f"{kind} ({variables})" if variables else kind
    call = f"{name}({arguments})" if arguments else name
    return f"{head} {{ {call}{selection} }}"


def _fields(root: GraphQLObjectType | None, only_filtered: bool) -> list[tuple[str, GraphQLField]]:
    assert root is not None
    return [
        (name, field)
        for name, field in sorted(root.fields.items())
        if not only_filtered or "filter" in field.args
    ]


FILTERED = _fields(GRAPHQL.query_type, only_filtered=True)
MUTATIONS = [
    (n, f) for n, f in _fields(GRAPHQL.mutation_type, only_filtered=False) if n != "uploadModelArchive"
]


def _arguments(field: GraphQLField) -> st.SearchStrategy[dict[str, Any]]:
    required = {a: value(d.type, a) for a, d in field.args.items() if isinstance(d.type, GraphQLNonNull)}
    optional = {a: value(d.type, a) for a, d in field.args.items() if not isinstance(d.type, GraphQLNonNull)}
    return st.fixed_dictionaries(required, optional=optional)


@pytest.fixture
def http(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.http, timeout=30) as client:
        yield client


def _send(
    http: httpx.Client, document: str, variables: dict[str, Any], token: str | None = None
) -> dict[str, Any]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    # json.dumps escapes lone surrogates (\ud800), which a client may well send.
    payload = json.dumps({"query": document, "variables": variables}).encode()
    response = http.post("/graphql", content=payload, headers=headers)
    assert response.status_code < 500, (response.status_code, response.text[:500])
    body: dict[str, Any] = response.json()
    for error in body.get("errors", []):
        code = (error.get("extensions") or {}).get("code")
        assert code in KNOWN_CODES, (document, variables, error)
        assert "Traceback" not in error["message"]
        assert "sqlalchemy" not in error["message"].lower()
    return body


def _version(http: httpx.Client) -> int:
    body = _send(http, "{ registryVersion }", {})
    version: int = body["data"]["registryVersion"]
    return version


@pytest.mark.slow
@pytest.mark.parametrize(("name", "field"), FILTERED, ids=[name for name, _ in FILTERED])
def test_every_filter_survives_hostile_input(http: httpx.Client, name: str, field: GraphQLField) -> None:
    document = _document("query", name, field)

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(arguments=_arguments(field))
    def check(arguments: dict[str, Any]) -> None:
        _send(http, document, arguments)
        assert _version(http) >= 0

    check()


@pytest.mark.slow
@pytest.mark.parametrize(("name", "field"), MUTATIONS, ids=[name for name, _ in MUTATIONS])
def test_every_mutation_survives_hostile_input_and_a_refused_write_changes_nothing(
    http: httpx.Client, live_url: str, name: str, field: GraphQLField
) -> None:
    token = asyncio.run(live_key(live_url, "property-writer", ApiKeyScope.ADMIN))
    document = _document("mutation", name, field)

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(arguments=_arguments(field))
    def check(arguments: dict[str, Any]) -> None:
        before = _version(http)
        body = _send(http, document, arguments, token)
        if body.get("errors"):
            assert _version(http) == before, (document, arguments, body)

    check()
