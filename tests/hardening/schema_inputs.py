"""Hypothesis strategies for GraphQL input values, built from the schema's own input types.

They lean hostile: strings with NUL characters, lone surrogates, 10,000 characters or
`javascript:` URLs; integers past 32 and 64 bits; NaN, Infinity and 5,000-digit decimals; ids that
are not ids or whose keys are past 2^63; lists longer than the caps. Every filter and every
mutation of the schema gets its inputs from here, so a new field is attacked the day it exists.
"""

from __future__ import annotations

import base64
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
)
from hypothesis import strategies as st


def _global_id(kind: str, key: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode().rstrip("=")


HOSTILE_TEXT = st.sampled_from(
    [
        "",
        " ",
        "a\x00b",
        "\x00",
        "\ud800",
        "x" * 10_000,
        "é" * 3_000,
        "javascript:alert(1)",
        "ftp://example.com/x",
        "http://",
        "https://example.com/" + "a" * 3000,
        "%00",
        "'; DROP TABLE engine; --",
        "../../etc/passwd",
        "(a|a)+b",
        "*",
        "_",
        "%",
        "\\",
        "😀" * 10,
        "NaN",
    ]
)
PLAIN_TEXT = st.text(min_size=0, max_size=40)
SLUGISH = st.from_regex(r"\A[a-z0-9][a-z0-9\-]{0,20}\Z", fullmatch=True)
IDS = st.one_of(
    st.sampled_from(["not-an-id", "", "=", "RW5naW5lOjA", "A" * 300]),
    st.builds(
        _global_id,
        st.sampled_from(["Engine", "EngineVersion", "Model", "Job", "Hardware", "Provider", "Nope"]),
        st.one_of(st.integers(1, 50), st.integers(2**62, 2**70), st.integers(-5, 0)),
    ),
)
DECIMALS = st.one_of(
    st.sampled_from(
        ["NaN", "Infinity", "-Infinity", "sNaN", "1e999999", "1" * 5000, "0.1" + "0" * 80, "-1", "abc"]
    ),
    st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-(10**9), max_value=10**9).map(
        str
    ),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
)
BIG_INTEGERS = st.one_of(st.integers(-(2**70), 2**70), st.integers(-5, 10**6))


def scalar(type_: GraphQLScalarType, name: str) -> st.SearchStrategy[Any]:
    kind = type_.name
    if kind == "ID":
        return IDS
    if kind == "String":
        if name.lower().endswith(("slug", "slugs")):
            return st.one_of(SLUGISH, HOSTILE_TEXT)
        return st.one_of(PLAIN_TEXT, HOSTILE_TEXT)
    if kind == "Int":
        return st.one_of(st.integers(-10, 200), st.integers(-(2**40), 2**40))
    if kind == "Float":
        return st.floats(allow_nan=False, allow_infinity=False)
    if kind == "Boolean":
        return st.booleans()
    if kind == "Decimal":
        return DECIMALS
    if kind == "BigInt":
        return BIG_INTEGERS
    if kind in ("Date", "DateTime"):
        return st.one_of(
            st.sampled_from(["2026-01-01", "2026-13-45", "yesterday", "2026-01-01T00:00:00Z"]), PLAIN_TEXT
        )
    if kind == "JSON":
        return st.dictionaries(PLAIN_TEXT, st.one_of(st.integers(), PLAIN_TEXT), max_size=3)
    if kind == "Upload":
        return st.none()
    return st.one_of(PLAIN_TEXT, HOSTILE_TEXT)


def value(type_: GraphQLInputType, name: str = "", depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of ``type_``; nullable types are sometimes null, required ones never."""
    if isinstance(type_, GraphQLNonNull):
        return _required(type_.of_type, name, depth)
    return st.one_of(st.none(), _required(type_, name, depth))


def _required(type_: Any, name: str, depth: int) -> st.SearchStrategy[Any]:
    if isinstance(type_, GraphQLList):
        items = value(type_.of_type, name, depth + 1)
        return st.one_of(st.lists(items, max_size=4), st.lists(items, min_size=101, max_size=120))
    if isinstance(type_, GraphQLEnumType):
        return st.sampled_from(list(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        if depth > 3:
            return st.just({})
        required = {
            field_name: value(field.type, field_name, depth + 1)
            for field_name, field in type_.fields.items()
            if isinstance(field.type, GraphQLNonNull)
        }
        optional = {
            field_name: value(field.type, field_name, depth + 1)
            for field_name, field in type_.fields.items()
            if not isinstance(field.type, GraphQLNonNull)
        }
        return st.fixed_dictionaries(required, optional=optional)
    if isinstance(type_, GraphQLScalarType):
        return scalar(type_, name)
    return st.none()
