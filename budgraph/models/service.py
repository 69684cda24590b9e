"""Rules for registering models."""

from __future__ import annotations

import functools
import re
from typing import Any

from sqlalchemy.exc import IntegrityError

from budgraph import db
from budgraph.db.base import Origin
from budgraph.db.enums import ModelSource
from budgraph.kit.db import RequestSession
from budgraph.kit.deletes import delete_rows, lock, refuse_if_referenced
from budgraph.kit.errors import BudgraphError, Conflict, from_integrity_error
from budgraph.kit.unit_of_work import UnitOfWork
from budgraph.kit.writes import flush
from budgraph.leaderboards import linking
from budgraph.models import repository
from budgraph.storage import ObjectStore

HUB_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
REVISION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$")
HTTP_URL = re.compile(r"^https?://[^\s/?#]+(/[^\s]*)?$")
UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE


def check_revision(revision: str) -> str:
    revision = revision.strip()
    if not REVISION.fullmatch(revision) or ".." in revision:
        raise BudgraphError(
            f"{revision!r} is not a valid revision (a branch, tag or commit)", field="revision"
        )
    return revision


def check_uri(uri: str, source: ModelSource) -> str:
    uri = uri.strip()
    if source is ModelSource.HUGGINGFACE and not HUB_REPO_ID.fullmatch(uri):
        raise BudgraphError(f"{uri!r} is not a Hugging Face repository id (`org/name`)", field="uri")
    if source is ModelSource.URL and not HTTP_URL.fullmatch(uri):
        raise BudgraphError(f"{uri!r} is not an http(s) URL", field="uri")
    if source is ModelSource.UPLOAD and not HUB_REPO_ID.fullmatch(uri):
        raise BudgraphError(f"{uri!r} is not a model name of the form `org/name`", field="uri")
    if source is ModelSource.CLOUD:
        raise BudgraphError("cloud models come from provider catalogues, not registration", field="source")
    return uri


async def register(session: RequestSession, uri: str, source: ModelSource, revision: str) -> db.Model:
    """The model for this source and uri (a Hub id in any casing) at this revision, created if new.

    Identical concurrent registrations get the same model: the unique indexes decide which insert
    wins, and the others read the winner's row once it is committed.
    """
    uri, revision = check_uri(uri, source), check_revision(revision)
    model = await repository.registered_model(session, source, uri)
    if model is None:
        model = await _create(session, uri, source, revision)
        if model is not None:
            # Current leaderboard snapshots may already name it.
            await linking.relink(session)
            return model
        model = await repository.registered_model(session, source, uri)
        if model is None:  # the winner was deleted meanwhile: a rare race, told plainly
            raise Conflict(f"model {uri!r} was registered and deleted concurrently; try again", field="uri")
    if model.revision != revision:
        model.revision = revision
        await flush(session, f"model {uri!r}")
    return model


async def _create(session: RequestSession, uri: str, source: ModelSource, revision: str) -> db.Model | None:
    """A new model row, or None if a concurrent transaction created the same model first."""
    author = uri.split("/")[0] if source is not ModelSource.URL else None
    model = db.Model(
        uri=uri, source_kind=source.value, author=author, revision=revision, origin=Origin.API.value
    )
    try:
        async with session.begin_nested():
            session.add(model)
            await session.flush()
    except IntegrityError as error:
        if getattr(error.orig, "sqlstate", None) != UNIQUE_VIOLATION:
            raise from_integrity_error(error, f"model {uri!r}") from None
        return None
    return model


async def delete_model(uow: UnitOfWork, store: ObjectStore, model: db.Model) -> list[Any]:
    """Delete a model with its jobs, files, scan results and aliases; its leaderboard entries stay,
    linked again to whatever they match without it (often nothing), and its files leave the object
    store once the deletion is committed. Refused while one of its jobs is queued or running."""
    session, what = uow.session, f"model {model.uri!r}"
    await lock(session, model)
    refuse_if_referenced(
        what, await repository.active_jobs_of(session, model.id), "active jobs", "cancel them first"
    )
    revisions = await repository.stored_revisions(session, model.id)
    deleted = await delete_rows(session, [], model, what)
    await linking.relink(session)  # names it tied with another model, or its aliases, link anew
    for revision in revisions:
        uow.after_commit(functools.partial(store.delete_revision, model.id, revision))
    return deleted
