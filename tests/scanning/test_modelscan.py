"""modelscan (the real package, in its worker process) over real model files."""

from __future__ import annotations

import asyncio
import collections
import json
import os
import pickle
import struct
import zipfile
from pathlib import Path

import h5py  # type: ignore[import-untyped]
import numpy as np
import psutil  # type: ignore[import-untyped]
import pytest

from budgraph.scanning import modelscan_runner
from budgraph.scanning.modelscan_runner import NO_CODE_DETAIL, run_modelscan
from budgraph.scanning.results import ScanOutcome, ScanStatus, Severity
from tests.scanning.conftest import Evil, evil_pickle, safetensors, torch_style_zip

SYSTEM = f"{os.system.__module__}.system"  # os.system pickles as posix.system on Linux
TORCH_MAGIC = 0x1950A86A20F9469CFC6C
LAMBDA_CONFIG = {
    "class_name": "Sequential",
    "config": {"layers": [{"class_name": "Lambda", "config": {"function": {"items": ["4wEAAAAAAAAA"]}}}]},
}


async def scan_one(root: Path, name: str) -> ScanOutcome:
    run = await run_modelscan(root, [name])
    assert run.version == "0.8.8"
    [outcome] = run.outcomes
    assert (outcome.scanner, outcome.path) == ("modelscan", name)
    return outcome


def legacy_torch_file(path: Path, payload: object) -> None:
    """The pre-zip ``torch.save`` layout: magic, protocol, sys info, the object, storage keys, raw bytes."""
    with path.open("wb") as out:
        for header in (TORCH_MAGIC, 1001, {"protocol_version": 1001, "little_endian": True}):
            pickle.dump(header, out, protocol=2)
        pickle.dump(payload, out, protocol=2)
        pickle.dump(["0"], out, protocol=2)
        out.write(struct.pack("<q4f", 4, 0.25, 0.5, 0.75, 1.0))


async def test_a_pickle_calling_os_system_is_a_critical_finding(tmp_path: Path) -> None:
    canary = tmp_path / "pwned"
    (tmp_path / "model.pkl").write_bytes(evil_pickle(canary))

    outcome = await scan_one(tmp_path, "model.pkl")

    assert outcome.status is ScanStatus.FINDING
    assert outcome.severity is Severity.CRITICAL
    assert outcome.finding == f"{SYSTEM} in pickle"
    assert outcome.detail == (
        f"CRITICAL: Use of unsafe operator 'system' from module '{os.system.__module__}' (model.pkl)"
    )
    assert not canary.exists()


async def test_clean_pickle_and_numpy_files_are_clean(tmp_path: Path) -> None:
    (tmp_path / "stats.pkl").write_bytes(pickle.dumps({"loss": 0.25, "steps": [1, 2, 3]}, protocol=4))
    np.save(tmp_path / "embeddings.npy", np.arange(12, dtype=np.float32).reshape(3, 4))

    run = await run_modelscan(tmp_path, ["stats.pkl", "embeddings.npy"])

    assert run.outcomes == [
        ScanOutcome("modelscan", "stats.pkl", ScanStatus.CLEAN),
        ScanOutcome("modelscan", "embeddings.npy", ScanStatus.CLEAN),
    ]


@pytest.mark.parametrize("version", [(1, 0), (2, 0), (3, 0)])
async def test_numpy_files_of_every_format_version_are_read(tmp_path: Path, version: tuple[int, int]) -> None:
    objects = np.empty(2, dtype=object)
    objects[:] = [Evil(tmp_path / "pwned"), "text"]
    for name, array in [("numbers.npy", np.arange(6.0)), ("objects.npy", objects)]:
        with (tmp_path / name).open("wb") as out:
            np.lib.format.write_array(out, array, version=version, allow_pickle=True)

    run = await run_modelscan(tmp_path, ["numbers.npy", "objects.npy"])

    numbers, evil = run.outcomes
    assert numbers == ScanOutcome("modelscan", "numbers.npy", ScanStatus.CLEAN)
    assert (evil.status, evil.severity, evil.finding) == (
        ScanStatus.FINDING,
        Severity.CRITICAL,
        f"{SYSTEM} in numpy",
    )


async def test_a_pickle_named_npy_is_read_as_np_load_would(tmp_path: Path) -> None:
    (tmp_path / "array.npy").write_bytes(evil_pickle(tmp_path / "pwned"))

    outcome = await scan_one(tmp_path, "array.npy")

    assert (outcome.status, outcome.finding) == (ScanStatus.FINDING, f"{SYSTEM} in numpy")


async def test_a_pytorch_zip_checkpoint_is_scanned_without_torch(tmp_path: Path) -> None:
    torch_style_zip(tmp_path / "pytorch_model.bin", evil_pickle(tmp_path / "pwned"))
    torch_style_zip(tmp_path / "clean.pt", pickle.dumps(collections.OrderedDict(w=[1.0, 2.0]), protocol=2))

    run = await run_modelscan(tmp_path, ["pytorch_model.bin", "clean.pt"])

    evil, clean = run.outcomes
    assert (evil.status, evil.severity, evil.finding) == (
        ScanStatus.FINDING,
        Severity.CRITICAL,
        f"{SYSTEM} in pickle",
    )
    assert evil.detail is not None
    assert "(pytorch_model.bin:archive/data.pkl)" in evil.detail
    assert clean == ScanOutcome("modelscan", "clean.pt", ScanStatus.CLEAN)


async def test_a_legacy_pytorch_file_has_every_pickle_read(tmp_path: Path) -> None:
    # modelscan alone reads only the first pickle (the magic number) of such a file.
    legacy_torch_file(tmp_path / "evil.bin", Evil(tmp_path / "pwned"))
    legacy_torch_file(tmp_path / "clean.bin", collections.OrderedDict(w=[1.0, 2.0]))

    run = await run_modelscan(tmp_path, ["evil.bin", "clean.bin"])

    evil, clean = run.outcomes
    assert (evil.status, evil.severity, evil.finding) == (
        ScanStatus.FINDING,
        Severity.CRITICAL,
        f"{SYSTEM} in pickle",
    )
    assert clean == ScanOutcome("modelscan", "clean.bin", ScanStatus.CLEAN)


async def test_a_pickle_under_an_unknown_name_is_still_read(tmp_path: Path) -> None:
    (tmp_path / "optimizer.state").write_bytes(evil_pickle(tmp_path / "pwned"))

    outcome = await scan_one(tmp_path, "optimizer.state")

    assert (outcome.status, outcome.finding) == (ScanStatus.FINDING, f"{SYSTEM} in pickle")


@pytest.mark.parametrize("name", ["model.safetensors", "config.json", "README.md", "tokenizer.model"])
async def test_formats_without_code_are_clean_without_a_scan(tmp_path: Path, name: str) -> None:
    if name.endswith(".safetensors"):
        safetensors(tmp_path / name)
    else:
        (tmp_path / name).write_bytes(b"{}")

    assert await scan_one(tmp_path, name) == ScanOutcome(
        "modelscan", name, ScanStatus.CLEAN, detail=NO_CODE_DETAIL
    )


async def test_an_unknown_binary_is_not_scanned(tmp_path: Path) -> None:
    (tmp_path / "weights.xyz").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "model.bin").write_bytes(bytes(range(256)) * 4)  # neither a zip nor a torch file

    run = await run_modelscan(tmp_path, ["weights.xyz", "model.bin"])

    assert [outcome.status for outcome in run.outcomes] == [ScanStatus.NOT_SCANNED, ScanStatus.NOT_SCANNED]
    assert (
        run.outcomes[0].detail == "modelscan did not read: Model Scan did not scan file [SCAN_NOT_SUPPORTED]"
    )


async def test_an_unknown_member_of_a_zip_checkpoint_is_not_scanned(tmp_path: Path) -> None:
    torch_style_zip(tmp_path / "model.pt", pickle.dumps({"w": 1}, protocol=2))
    with zipfile.ZipFile(tmp_path / "model.pt", "a") as archive:
        archive.writestr("archive/extra/hook.so", b"\x7fELF" + bytes(60))

    outcome = await scan_one(tmp_path, "model.pt")

    assert outcome.status is ScanStatus.NOT_SCANNED
    assert outcome.detail == (
        "modelscan did not read: archive member archive/extra/hook.so: Model Scan did not scan file"
        " [SCAN_NOT_SUPPORTED]"
    )


async def test_a_corrupt_pickle_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "broken.pkl").write_bytes(b"\x80\x04\x95garbage")

    outcome = await scan_one(tmp_path, "broken.pkl")

    assert outcome.status is ScanStatus.ERROR
    assert (
        outcome.detail == "PICKLE_GENOPS: Parsing error: not enough data in stream to read uint8 (broken.pkl)"
    )


async def test_keras_lambda_layers_are_findings_without_tensorflow(tmp_path: Path) -> None:
    with h5py.File(tmp_path / "model.h5", "w") as model:
        model.attrs["model_config"] = json.dumps(LAMBDA_CONFIG)
    with h5py.File(tmp_path / "weights.h5", "w") as weights:
        weights.create_dataset("dense/kernel", data=np.ones((2, 2)))
    with zipfile.ZipFile(tmp_path / "model.keras", "w") as archive:
        archive.writestr("config.json", json.dumps(LAMBDA_CONFIG))
        archive.writestr("metadata.json", "{}")

    run = await run_modelscan(tmp_path, ["model.h5", "weights.h5", "model.keras"])

    h5, weights_only, keras = run.outcomes
    assert (h5.status, h5.severity, h5.finding) == (
        ScanStatus.FINDING,
        Severity.MEDIUM,
        "Keras.Lambda in keras h5",
    )
    assert weights_only == ScanOutcome(
        "modelscan",
        "weights.h5",
        ScanStatus.CLEAN,
        detail="HDF5 weights without a model config: no layers to execute",
    )
    assert (keras.status, keras.severity, keras.finding) == (
        ScanStatus.FINDING,
        Severity.MEDIUM,
        "Keras.Lambda in keras",
    )


async def test_a_tensorflow_saved_model_is_an_error_without_tensorflow(tmp_path: Path) -> None:
    (tmp_path / "saved_model.pb").write_bytes(b"\x08\x01")

    outcome = await scan_one(tmp_path, "saved_model.pb")

    assert outcome.status is ScanStatus.ERROR
    assert outcome.detail is not None
    assert "tensorflow extras" in outcome.detail


async def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    outcome = await scan_one(tmp_path, "gone.pkl")

    # in words: the worker's exception text (with its temporary path) goes to the log
    assert (outcome.status, outcome.detail) == (
        ScanStatus.ERROR,
        "modelscan failed: the file disappeared before it was read",
    )


@pytest.mark.parametrize(
    ("mode", "detail"),
    [
        ("hang", "modelscan failed: no result within 1 s"),
        ("exit", "modelscan failed: the scanner process exited (3)"),
        ("garbage", "modelscan failed: its answer was unreadable"),
        ("broken", "modelscan could not start: the scanner process exited (2)"),
    ],
)
async def test_a_worker_that_fails_fails_every_file_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str, detail: str
) -> None:
    monkeypatch.setattr(modelscan_runner, "WORKER_MODULE", "tests.scanning.fake_modelscan_worker")
    monkeypatch.setenv("FAKE_MODELSCAN_WORKER", mode)
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parents[2]))  # so `-m tests.scanning...` imports
    (tmp_path / "a.pkl").write_bytes(pickle.dumps(1))
    (tmp_path / "b.pkl").write_bytes(pickle.dumps(2))

    run = await run_modelscan(tmp_path, ["a.pkl", "b.pkl"], file_timeout=1.0)

    assert run.outcomes == [
        ScanOutcome("modelscan", "a.pkl", ScanStatus.ERROR, detail=detail),
        ScanOutcome("modelscan", "b.pkl", ScanStatus.ERROR, detail=detail),
    ]


async def test_cancelling_a_scan_stops_its_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(modelscan_runner, "WORKER_MODULE", "tests.scanning.fake_modelscan_worker")
    monkeypatch.setenv("FAKE_MODELSCAN_WORKER", "hang")
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parents[2]))
    (tmp_path / "a.pkl").write_bytes(pickle.dumps(1))
    scan = asyncio.create_task(run_modelscan(tmp_path, ["a.pkl"]))
    for _ in range(100):
        await asyncio.sleep(0.05)
        workers = [
            child
            for child in psutil.Process().children()
            if "fake_modelscan_worker" in " ".join(child.cmdline())
        ]
        if workers:
            break
    assert len(workers) == 1

    scan.cancel()
    with pytest.raises(asyncio.CancelledError):
        await scan

    assert not workers[0].is_running()
