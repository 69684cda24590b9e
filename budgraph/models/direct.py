"""Model pages compiled into one statement (see budgraph/graphql/compiled.py): `models` (a first
page, in any order) and `model(uri:)`, with their licenses, architectures and nested lists."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, bindparam, case, func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql import FromClause

from budgraph import db
from budgraph.graphql.compiled import Expression, TableShape, ToOne, Written, json_object
from budgraph.graphql.compiled_roots import CompiledRoot, RootQuery
from budgraph.graphql.compiled_selection import Item, NotCompiled
from budgraph.jobs.direct import FILES_OF_MODEL, JOBS_OF_MODEL, SCAN_RESULTS_OF_MODEL
from budgraph.leaderboards.direct import SCORES_OF_MODEL
from budgraph.models import repository
from budgraph.models.types import FACT_FIELD_NAMES, ModelOrder, model_query
from budgraph.settings import Settings


def _models(arguments: Mapping[str, Any], settings: Settings) -> RootQuery:
    if arguments.get("filter") is not None:
        raise NotCompiled("a filtered model list")
    order = arguments.get("order_by")
    if isinstance(order, dict):  # graphql-core coerces an input object to a dict of its fields
        order = ModelOrder(field=order["field"], direction=order["direction"])
    shape = (order.field.value, order.direction.value) if order is not None else None
    query = model_query(None, order)
    return RootQuery(
        lambda: repository.models_statement(query),
        {},
        shape,
        total=lambda: repository.models_count_statement(query),
    )


def _model(arguments: Mapping[str, Any], settings: Settings) -> RootQuery:
    uri = arguments.get("uri")
    if arguments.get("id") is not None or uri is None:
        raise NotCompiled("a model by global id, or neither id nor uri (the executor words the error)")
    return RootQuery(_named, {"uri": uri}, None)


def _named() -> Select[Any]:
    return repository.named_statement(bindparam("uri"))


MODELS = CompiledRoot("Model", listed=True, query=_models)
MODEL = CompiledRoot("Model", listed=False, query=_model)


def _camel_case(key: Any) -> Any:
    """strawberry's ``to_camel_case`` in SQL: the first part as it is, each further part
    capitalized (an empty part, from a double underscore, as ``_``)."""
    part = (
        func.unnest(func.string_to_array(key, literal_column("'_'")))
        .table_valued("part", with_ordinality="n")
        .render_derived(name="parts")
    )
    written = case(
        (part.c.n == 1, part.c.part),
        (part.c.part == "", literal_column("'_'")),
        else_=func.initcap(part.c.part),
    )
    return select(
        func.string_agg(written, aggregate_order_by(literal_column("''"), part.c.n))
    ).scalar_subquery()


def _fact_sources(model: FromClause, items: tuple[Item, ...]) -> Expression:
    """``Model.factSources``: the facts' sources, by the GraphQL name of the field that holds each."""
    fact = func.jsonb_each_text(model.c.fact_sources).table_valued("key", "value").render_derived("fact")
    renamed = case(
        *((fact.c.key == column, literal_column(f"'{name}'")) for column, name in FACT_FIELD_NAMES.items()),
        else_=_camel_case(fact.c.key),
    )
    named = select(renamed.label("field"), fact.c.value.label("source")).subquery("named")
    pairs: list[tuple[str, Expression]] = []
    for item in items:
        if item.name == "__typename":
            pairs.append((item.key, literal_column("'FactSource'")))
        elif item.name in ("field", "source"):
            pairs.append((item.key, named.c[item.name]))
        else:
            raise NotCompiled(f"FactSource.{item.name}")
    listed = func.json_agg(aggregate_order_by(json_object(pairs), named.c.field.collate("C")))
    return func.coalesce(select(listed).scalar_subquery(), literal_column("'[]'::json"))


LICENSE_SHAPE = TableShape("License", db.License)
MODEL_SHAPE = TableShape(
    "Model",
    db.Model,
    renamed={"architecture_name": "architecture"},
    relations={
        "license": ToOne("License", lambda model, license: license.c.id == model.c.license_id),
        "architecture": ToOne(
            "ModelArchitecture", lambda model, architecture: architecture.c.class_name == model.c.architecture
        ),
        "jobs": JOBS_OF_MODEL,
        "files": FILES_OF_MODEL,
        "scan_results": SCAN_RESULTS_OF_MODEL,
        "fact_sources": Written(_fact_sources),
        "scores": SCORES_OF_MODEL,
    },
)
