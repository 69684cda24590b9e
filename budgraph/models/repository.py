"""SQL for models and licenses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from budgraph import db
from budgraph.db.enums import ACTIVE_JOB_STATUSES, ModelSource
from budgraph.kit import row_counts
from budgraph.kit.ordering import ListOrder, order_terms
from budgraph.kit.search import escape_like


@dataclass(frozen=True)
class ModelQuery:
    search: str | None = None
    source_kinds: tuple[str, ...] | None = None
    architectures: tuple[str, ...] | None = None
    families: tuple[str, ...] | None = None
    modalities: tuple[str, ...] | None = None
    statuses: tuple[str, ...] | None = None
    license_keys: tuple[str, ...] | None = None
    license_kinds: tuple[str, ...] | None = None
    commercial_use: bool | None = None
    min_parameters: int | None = None
    max_parameters: int | None = None
    min_context_length: int | None = None
    order: ListOrder = None


MODEL_ORDER_COLUMNS = {
    "uri": db.Model.uri,
    "parameter_count": db.Model.parameter_count,
    "context_length": db.Model.context_length,
    "created_at": db.Model.created_at,
}
LICENSE_ORDER_COLUMNS = {"key": db.License.key, "name": db.License.name, "kind": db.License.kind}


def _model_order(order: ListOrder) -> list[ColumnElement[Any]]:
    """The order of a model list; default: uri ascending."""
    field, direction = order or ("uri", "asc")
    return order_terms(MODEL_ORDER_COLUMNS, field, direction, db.Model.id)


def models_statement(query: ModelQuery) -> Select[Any]:
    """Models, filtered and ordered."""
    return _models(query).order_by(*_model_order(query.order))


def models_count_statement(query: ModelQuery) -> Select[Any] | None:
    """How many models an unfiltered list holds, read from the stored count (no count of every
    model); None for a filtered list, whose rows are counted."""
    if query != ModelQuery(order=query.order):
        return None
    return row_counts.count_statement(db.Model.__tablename__)


def _models(query: ModelQuery) -> Select[Any]:
    model = db.Model
    stmt = select(model)
    if query.search:
        pattern = f"%{escape_like(query.search)}%"
        stmt = stmt.where(model.uri.ilike(pattern) | model.author.ilike(pattern))
    if query.source_kinds is not None:
        stmt = stmt.where(model.source_kind.in_(query.source_kinds))
    if query.architectures is not None:
        stmt = stmt.where(model.architecture.in_(query.architectures))
    if query.families is not None:
        stmt = stmt.where(
            model.architecture.in_(
                select(db.ModelArchitecture.class_name).where(db.ModelArchitecture.family.in_(query.families))
            )
        )
    if query.modalities is not None:
        stmt = stmt.where(model.modality.in_(query.modalities))
    if query.statuses is not None:
        stmt = stmt.where(model.status.in_(query.statuses))
    license_conditions = []
    if query.license_keys is not None:
        license_conditions.append(db.License.key.in_(query.license_keys))
    if query.license_kinds is not None:
        license_conditions.append(db.License.kind.in_(query.license_kinds))
    if query.commercial_use is not None:
        license_conditions.append(db.License.commercial_use.is_(query.commercial_use))
    if license_conditions:
        stmt = stmt.where(model.license_id.in_(select(db.License.id).where(*license_conditions)))
    if query.min_parameters is not None:
        stmt = stmt.where(model.parameter_count >= query.min_parameters)
    if query.max_parameters is not None:
        stmt = stmt.where(model.parameter_count <= query.max_parameters)
    if query.min_context_length is not None:
        stmt = stmt.where(model.context_length >= query.min_context_length)
    return stmt


def models_served_statement(query: ModelQuery) -> Select[Any]:
    """Models joined to the engine versions that serve their architecture (parent: edge.engine_version_id)."""
    return (
        _models(query)
        .join(db.ModelArchitecture, db.ModelArchitecture.class_name == db.Model.architecture)
        .join(db.CompatibilityEdge, db.CompatibilityEdge.architecture_id == db.ModelArchitecture.id)
        .order_by(*_model_order(query.order))
    )


def named(model: Any, uri: Any) -> ColumnElement[bool]:
    """The models a client means by ``uri``: that exact uri, or a Hub model whose id equals it but
    for case (Hub ids are case-insensitive). Each side is read from an index (``(uri, id)`` and the
    Hub's unique ``lower(uri)``); ``model`` is the table or the mapped class."""
    hub = and_(model.source_kind == ModelSource.HUGGINGFACE.value, func.lower(model.uri) == func.lower(uri))
    return or_(model.uri == uri, hub)


def named_first(model: Any, uri: Any) -> ColumnElement[Any]:
    """The order that puts the exact match before a match but for case."""
    exact: ColumnElement[bool] = model.uri == uri
    return exact.desc()


def named_statement(uri: Any) -> Select[Any]:
    """The models ``uri`` names, the exact match first (``uri``: a value or a bind parameter)."""
    return select(db.Model).where(named(db.Model, uri)).order_by(named_first(db.Model, uri))


async def model_by_uri(session: AsyncSession, uri: str) -> db.Model | None:
    """A model by its uri; Hub ids compare case-insensitively, exact matches first."""
    rows = await session.scalars(named_statement(uri).limit(1))
    return rows.first()


@dataclass(frozen=True)
class LicenseQuery:
    search: str | None = None
    kinds: tuple[str, ...] | None = None
    commercial_use: bool | None = None
    order: ListOrder = None


def licenses_statement(query: LicenseQuery) -> Select[Any]:
    """Licenses, filtered; by key unless ordered otherwise."""
    lic = db.License
    stmt = select(lic)
    if query.search:
        pattern = f"%{escape_like(query.search)}%"
        stmt = stmt.where(lic.key.ilike(pattern) | lic.name.ilike(pattern))
    if query.kinds is not None:
        stmt = stmt.where(lic.kind.in_(query.kinds))
    if query.commercial_use is not None:
        stmt = stmt.where(lic.commercial_use.is_(query.commercial_use))
    field, direction = query.order or ("key", "asc")
    return stmt.order_by(*order_terms(LICENSE_ORDER_COLUMNS, field, direction, lic.id))


async def license_by_key(session: AsyncSession, key: str) -> db.License | None:
    result: db.License | None = await session.scalar(select(db.License).where(db.License.key == key))
    return result


async def registered_model(session: AsyncSession, source: ModelSource, uri: str) -> db.Model | None:
    """The model of this source and uri: a Hub id in any casing (one model per Hub repository),
    other uris exactly. Read afresh, so a row another transaction just committed is seen."""
    same_uri = (
        func.lower(db.Model.uri) == uri.lower() if source is ModelSource.HUGGINGFACE else db.Model.uri == uri
    )
    result: db.Model | None = await session.scalar(
        select(db.Model)
        .where(db.Model.source_kind == source.value, same_uri)
        .execution_options(populate_existing=True)
    )
    return result


async def active_jobs_of(session: AsyncSession, model_id: int) -> list[str]:
    """``kind (status)`` of each queued or running job of a model."""
    rows = await session.execute(
        select(db.Job.kind, db.Job.status)
        .where(db.Job.model_id == model_id, db.Job.status.in_([s.value for s in ACTIVE_JOB_STATUSES]))
        .order_by(db.Job.id)
    )
    return [f"{kind} ({status})" for kind, status in rows.all()]


async def stored_revisions(session: AsyncSession, model_id: int) -> list[str]:
    """The revisions of a model that have files in the object store."""
    rows = await session.scalars(
        select(db.ModelFile.revision)
        .where(db.ModelFile.model_id == model_id)
        .distinct()
        .order_by(db.ModelFile.revision)
    )
    return list(rows.all())
