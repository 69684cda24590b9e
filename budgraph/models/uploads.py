"""Uploaded model archives: received with a size limit, unpacked safely, kept in the object store."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path
from typing import Protocol

from sqlalchemy import delete

from budgraph import db
from budgraph.db.enums import ModelSource
from budgraph.kit.db import RequestSession
from budgraph.kit.errors import BudgraphError, ErrorCode
from budgraph.models import service
from budgraph.storage import (
    ArchiveLimits,
    ObjectKey,
    ObjectStore,
    StorageUnavailable,
    UnsafeArchive,
    safe_extract,
)

CHUNK = 1024 * 1024
log = logging.getLogger("budgraph.models")


class UploadedFile(Protocol):
    """What a GraphQL multipart upload gives us (Starlette's ``UploadFile``)."""

    filename: str | None

    async def read(self, size: int = -1) -> bytes: ...


async def _receive(upload: UploadedFile, destination: Path, max_bytes: int) -> None:
    received = 0
    with destination.open("wb") as handle:
        while chunk := await upload.read(CHUNK):
            received += len(chunk)
            if received > max_bytes:
                raise BudgraphError(
                    f"the archive is larger than the limit of {max_bytes} bytes", field="file"
                )
            await asyncio.to_thread(handle.write, chunk)


def _unsafe(error: UnsafeArchive) -> BudgraphError:
    problem = BudgraphError(f"the archive was refused: {error.message}", field="file")
    problem.extensions["reason"] = error.reason_code.value
    return problem


async def store_archive(
    session: RequestSession,
    store: ObjectStore,
    upload: UploadedFile,
    uri: str,
    revision: str,
    max_bytes: int,
    limits: ArchiveLimits,
) -> db.Model:
    """Register ``uri`` as an uploaded model whose files at ``revision`` are the archive's contents."""
    uri, revision = service.check_uri(uri, ModelSource.UPLOAD), service.check_revision(revision)
    if "/" in revision:
        raise BudgraphError("an uploaded model's revision cannot contain `/`", field="revision")
    with tempfile.TemporaryDirectory(prefix="budgraph-upload-") as workdir:
        archive, unpacked = Path(workdir) / "archive", Path(workdir) / "files"
        await _receive(upload, archive, max_bytes)
        try:
            files = await asyncio.to_thread(safe_extract, archive, unpacked, limits)
        except UnsafeArchive as error:
            raise _unsafe(error) from None
        if not files:
            raise BudgraphError("the archive holds no files", field="file")
        model = await service.register(session, uri, ModelSource.UPLOAD, revision)
        try:
            await store.delete_revision(model.id, revision)
            stored = [
                await store.put_file(ObjectKey(model.id, revision, f.path), unpacked / f.path) for f in files
            ]
        except StorageUnavailable as error:
            log.warning("upload of %s@%s: the object store is unavailable: %s", uri, revision, error)
            raise BudgraphError(
                "the object store is unavailable; try the upload again later",
                code=ErrorCode.SERVICE_UNAVAILABLE,
            ) from None
    await session.execute(
        delete(db.ModelFile).where(db.ModelFile.model_id == model.id, db.ModelFile.revision == revision)
    )
    session.add_all(
        db.ModelFile(
            model_id=model.id,
            revision=revision,
            path=item.key.path,
            size=item.size,
            sha256=item.sha256,
            object_key=item.key.name,
        )
        for item in stored
    )
    await session.flush()
    return model
