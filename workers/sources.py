"""Where a job reads a model's files from: the Hub, an operator's URL, or the object store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from budgraph import db
from budgraph.db.enums import ModelSource
from budgraph.extraction.sources import HubModelFiles, LocalModelFiles, ModelFiles, UrlModelFiles
from budgraph.jobs.failures import PermanentFailure
from budgraph.settings import Settings
from budgraph.storage import ObjectKey, ObjectStore


async def download_stored(store: ObjectStore, model: db.Model, directory: Path) -> list[str]:
    """The model's stored files at its revision, downloaded into ``directory``; their paths."""
    stored = await store.list(model.id, model.revision)
    if not stored:
        raise PermanentFailure(f"no stored files for {model.uri}@{model.revision}")
    for item in stored:
        await store.download(ObjectKey(model.id, model.revision, item.key.path), directory / item.key.path)
    return [item.key.path for item in stored]


def _files_under(directory: Path) -> list[str]:
    """Relative paths of the files below ``directory`` (huggingface_hub's own cache folder left out)."""
    found = (path.relative_to(directory) for path in directory.rglob("*") if path.is_file())
    return sorted(str(path) for path in found if ".cache" not in path.parts)


@asynccontextmanager
async def model_files(
    model: db.Model, settings: Settings, store: ObjectStore, workdir: Path
) -> AsyncIterator[ModelFiles]:
    """Read-only access to the model's metadata files, wherever they are."""
    source = ModelSource(model.source_kind)
    if source is ModelSource.HUGGINGFACE:
        hub = HubModelFiles(model.uri, model.revision, endpoint=settings.hf_endpoint, token=settings.hf_token)
        try:
            yield hub
        finally:
            await asyncio.to_thread(hub.close)
    elif source is ModelSource.URL:
        yield UrlModelFiles(model.uri, allow_private=settings.allow_private_urls)
    elif source is ModelSource.UPLOAD:
        await download_stored(store, model, workdir)
        yield LocalModelFiles(workdir)
    else:
        raise PermanentFailure(f"{source.value} models have no files")


async def materialise_all(
    model: db.Model, settings: Settings, store: ObjectStore, directory: Path
) -> list[str]:
    """Every file of the model, downloaded into ``directory`` (scanning needs the bytes); their paths."""
    source = ModelSource(model.source_kind)
    if source is ModelSource.UPLOAD:
        return await download_stored(store, model, directory)
    if source is ModelSource.HUGGINGFACE:
        from huggingface_hub import snapshot_download

        await asyncio.to_thread(
            snapshot_download,
            model.uri,
            revision=model.revision,
            local_dir=directory,
            endpoint=settings.hf_endpoint,
            token=settings.hf_token or False,
        )
        return await asyncio.to_thread(_files_under, directory)
    raise PermanentFailure(f"scanning {source.value} models is not supported: their files cannot be listed")
