"""A model's shape by the id a runtime knows: the registered row, or, for a Hub id nobody registered
yet, what its config.json says (budgraph/models/hub_lookup.py), the model then registered for a full
extraction.

Any caller, anonymous ones included, may cause that registration: the issue asks for the model to
be recorded, and a runtime asking about a model is the registry's best sign it matters. It cannot
flood the registry: only a repository the Hub confirmed (config.json read) is recorded, once (the
next question finds the row), and the Hub reads one client causes are limited per window
(``hub_lookup_limit``).
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError

from budgraph import db
from budgraph.db.enums import JobKind, ModelSource, ModelStatus
from budgraph.graphql.context import Context
from budgraph.jobs import service as jobs
from budgraph.kit.errors import BudgraphError, NotFound
from budgraph.kit.unit_of_work import UnitOfWork
from budgraph.models import repository, service
from budgraph.models.shape import ModelShape
from budgraph.ratelimit.identities import caller_identity

log = logging.getLogger("budgraph.models.lookup")

LOOKUP_REVISION = "main"


def checked_hub_id(uri: str) -> str:
    """``uri`` as a Hub repository id (``org/name``), or a validation error naming the argument."""
    repo_id = uri.strip()
    if not service.HUB_REPO_ID.fullmatch(repo_id) or "--" in repo_id or ".." in repo_id:
        raise BudgraphError(
            f"{uri!r} is neither a registered model nor a Hugging Face repository id (`org/name`)",
            field="model",
        )
    return repo_id


def _awaiting_extraction(model: db.Model) -> bool:
    """A Hub model registered but not extracted yet: its row knows nothing of its shape."""
    return (
        model.source_kind == ModelSource.HUGGINGFACE.value
        and model.status == ModelStatus.REGISTERED.value
        and model.architecture is None
    )


async def model_shape(context: Context, uri: str) -> ModelShape:
    """The shape of the model ``uri`` names: a registered model's row (one query), else the Hub's.

    Raises ``NotFound`` (no such model or repository), a validation error (not a Hub id) or the
    lookup's typed errors (``SOURCE_UNAVAILABLE``, ``SOURCE_UNREADABLE``, ``RATE_LIMITED``)."""
    registered = await repository.model_by_uri(context.session, uri)
    if registered is not None and not _awaiting_extraction(registered):
        return ModelShape.from_row(registered)
    lookups = context.hub_lookups
    if lookups is None:
        if registered is not None:
            return ModelShape.from_row(registered)
        raise NotFound(f"no registered model {uri!r}; give its `architecture` too", field="model")
    repo_id = registered.uri if registered is not None else checked_hub_id(uri)
    revision = registered.revision if registered is not None else LOOKUP_REVISION
    caller = caller_identity(context.principal, context.client_address)
    shape = await lookups.shape(repo_id, revision, caller)
    if registered is None:
        await _record(context, shape.uri)
    return shape


async def _record(context: Context, repo_id: str) -> None:
    """Register the model and request its extraction, enqueued once that is committed.

    In a unit of work of its own, committed at once: the question's own transaction may be a
    REPEATABLE READ snapshot (a cacheable answer), where a write fails whenever another write landed
    since the snapshot began. The answer stands whether or not the recording succeeds."""
    try:
        async with UnitOfWork(context.sessions, actor=context.actor) as uow:
            model = await service.register(uow.session, repo_id, ModelSource.HUGGINGFACE, LOOKUP_REVISION)
            await jobs.request_job(uow, context.queue, JobKind.EXTRACT, model, context.actor)
    except (BudgraphError, SQLAlchemyError, OSError) as error:
        log.warning("could not record %s for extraction: %s: %s", repo_id, type(error).__name__, error)
