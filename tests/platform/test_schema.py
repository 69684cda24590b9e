"""schema.graphql is committed and current, and every type, field and argument is described."""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
)

from budgraph.graphql.schema import schema
from budgraph.graphql.schema_file import SCHEMA_FILE, render_schema

BUILT_IN = {"String", "Int", "Float", "Boolean", "ID"}


def test_schema_file_is_current() -> None:
    assert SCHEMA_FILE.exists(), "run `make schema`"
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render_schema(), (
        "schema.graphql is stale: run `make schema`"
    )


def test_every_type_field_and_argument_is_described() -> None:
    missing: list[str] = []
    for name, graphql_type in schema._schema.type_map.items():
        if name.startswith("__") or name in BUILT_IN:
            continue
        if not graphql_type.description:
            missing.append(name)
        if isinstance(graphql_type, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in graphql_type.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                missing += [
                    f"{name}.{field_name}({arg})"
                    for arg, value in field.args.items()
                    if not value.description
                ]
        elif isinstance(graphql_type, GraphQLInputObjectType):
            missing += [
                f"{name}.{field}" for field, value in graphql_type.fields.items() if not value.description
            ]
        elif not isinstance(graphql_type, GraphQLEnumType | GraphQLScalarType | GraphQLUnionType):
            missing.append(f"{name}: unexpected kind")
    assert missing == []
