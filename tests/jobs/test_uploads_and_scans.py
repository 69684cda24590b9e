"""Uploaded archives (object store, safe unpacking) and security scans with real modelscan and clamd."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

from sqlalchemy import func, select

from budgraph import db
from budgraph.kit.db import RequestSession
from budgraph.settings import Settings
from budgraph.storage import LocalObjectStore
from tests.conftest import GraphQLClient
from tests.jobs.conftest import RunWorker, tar_gz, upload
from tests.scanning.conftest import Clamd, eicar, evil_pickle, safetensors
from tests.scanning.conftest import clamd as clamd  # the session fixture, shared

MODEL = """
query ($id: ID!) { node(id: $id) { ... on Model {
  parameterCount scanStatus scannedAt
  scanResults(first: 100) { totalCount nodes { scanner path status severity finding } }
  jobs { nodes { kind status error result } } } } }
"""
SCAN = "mutation ($id: ID!) { scanModel(id: $id) { id status } }"


async def test_upload_stores_files_and_extracts_from_them(
    tmp_path: Path,
    tiny_llama: Path,
    client: GraphQLClient,
    writer_token: str,
    run_worker: RunWorker,
    store: LocalObjectStore,
) -> None:
    archive = tar_gz(tiny_llama, tmp_path / "tiny-llama.tar.gz")
    body = await upload(client, writer_token, archive, "budtest/uploaded-llama")
    assert body.get("errors") is None, body
    payload = body["data"]["uploadModelArchive"]
    files = payload["model"]["files"]
    expected = sorted(p.relative_to(tiny_llama).as_posix() for p in tiny_llama.rglob("*") if p.is_file())
    assert [f["path"] for f in files["nodes"]] == expected
    config = next(f for f in files["nodes"] if f["path"] == "config.json")
    assert config["sha256"] == hashlib.sha256((tiny_llama / "config.json").read_bytes()).hexdigest()
    assert payload["model"]["sourceKind"] == "UPLOAD"

    worker = await run_worker()
    assert worker.jobs_complete == 1
    model = (await client.data(MODEL, {"id": payload["model"]["id"]}))["node"]
    assert model["jobs"]["nodes"][0]["error"] is None
    assert model["parameterCount"] == 106_816
    assert model["jobs"]["nodes"][0]["status"] == "SUCCEEDED"


def _hostile_tar(path: Path) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        data = b"{}"
        info = tarfile.TarInfo("../../escape/config.json")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return path


async def test_unsafe_or_oversized_archives_are_refused(
    tmp_path: Path,
    tiny_llama: Path,
    client: GraphQLClient,
    writer_token: str,
    session: RequestSession,
    settings: Settings,
) -> None:
    body = await upload(client, writer_token, _hostile_tar(tmp_path / "evil.tar.gz"), "budtest/evil")
    assert [(e["extensions"]["code"], e["extensions"].get("reason")) for e in body["errors"]] == [
        ("BAD_USER_INPUT", "PATH_TRAVERSAL")
    ]
    assert not (tmp_path.parent / "escape").exists()
    settings.upload_max_bytes = 1024
    try:
        archive = tar_gz(tiny_llama, tmp_path / "big.tar.gz")
        body = await upload(client, writer_token, archive, "budtest/big", status=413)
    finally:
        settings.upload_max_bytes = 2 * 1024**3
    # Refused while it streamed in: 413 before the mutation ran.
    assert [e["extensions"]["code"] for e in body["errors"]] == ["PAYLOAD_TOO_LARGE"]
    assert body["errors"][0]["message"] == "the upload is larger than 1024 bytes"
    assert await session.scalar(select(func.count()).select_from(db.Model)) == 0
    assert await session.scalar(select(func.count()).select_from(db.Job)) == 0


async def _uploaded(
    tmp_path: Path, client: GraphQLClient, token: str, files: dict[str, bytes], uri: str
) -> str:
    folder = tmp_path / uri.replace("/", "_")
    folder.mkdir()
    for name, content in files.items():
        (folder / name).write_bytes(content)
    safetensors(folder / "model.safetensors")
    body = await upload(client, token, tar_gz(folder, tmp_path / f"{folder.name}.tar.gz"), uri)
    assert body.get("errors") is None, body
    model_id: str = body["data"]["uploadModelArchive"]["model"]["id"]
    await client.data(SCAN, {"id": model_id}, token=token)
    return model_id


async def test_a_pickle_calling_os_system_makes_the_model_unsafe(
    tmp_path: Path,
    client: GraphQLClient,
    writer_token: str,
    run_worker: RunWorker,
    clamd: Clamd,
    job_settings: Settings,
) -> None:
    canary = tmp_path / "canary"
    model_id = await _uploaded(
        tmp_path,
        client,
        writer_token,
        {"config.json": b"{}", "pytorch_model.bin": evil_pickle(canary)},
        "budtest/evil",
    )
    await run_worker(job_settings.model_copy(update={"clamd_address": clamd.address}))
    model = (await client.data(MODEL, {"id": model_id}))["node"]
    assert model["scanStatus"] == "UNSAFE"
    worst = model["scanResults"]["nodes"][0]
    assert worst == {
        "scanner": "modelscan",
        "path": "pytorch_model.bin",
        "status": "FINDING",
        "severity": "CRITICAL",
        "finding": "posix.system in pickle",
    }
    assert not canary.exists()  # scanned, never loaded


async def test_eicar_is_found_by_clamd_and_a_clean_model_is_clean(
    tmp_path: Path,
    client: GraphQLClient,
    writer_token: str,
    run_worker: RunWorker,
    clamd: Clamd,
    job_settings: Settings,
) -> None:
    infected = await _uploaded(tmp_path, client, writer_token, {"README.md": eicar()}, "budtest/eicar")
    clean = await _uploaded(tmp_path, client, writer_token, {"config.json": b'{"a": 1}'}, "budtest/clean")
    await run_worker(job_settings.model_copy(update={"clamd_address": clamd.address}))

    infected_model = (await client.data(MODEL, {"id": infected}))["node"]
    assert infected_model["scanStatus"] == "UNSAFE"
    assert infected_model["scanResults"]["nodes"][0] | {"finding": None} == {
        "scanner": "clamav",
        "path": "README.md",
        "status": "FINDING",
        "severity": "CRITICAL",
        "finding": None,
    }
    assert infected_model["scanResults"]["nodes"][0]["finding"].startswith("Eicar-Test-Signature")

    clean_model = (await client.data(MODEL, {"id": clean}))["node"]
    assert clean_model["scanStatus"] == "CLEAN"
    assert clean_model["scanResults"]["totalCount"] == 4  # two files, two scanners
    assert {r["status"] for r in clean_model["scanResults"]["nodes"]} == {"CLEAN"}


async def test_clamd_down_fails_closed(
    tmp_path: Path, client: GraphQLClient, writer_token: str, run_worker: RunWorker
) -> None:
    model_id = await _uploaded(tmp_path, client, writer_token, {"config.json": b"{}"}, "budtest/unscanned")
    await run_worker()  # job_settings point clamd at a socket that does not exist
    model = (await client.data(MODEL, {"id": model_id}))["node"]
    assert model["scanStatus"] == "ERROR"
    assert {r["status"] for r in model["scanResults"]["nodes"] if r["scanner"] == "clamav"} == {"ERROR"}
    assert model["jobs"]["nodes"][0]["result"]["summary"] == "ERROR"
