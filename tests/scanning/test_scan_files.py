"""scan_files: both real scanners over a model's files, and the verdict over them."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from budgraph.scanning import ScanLimits, ScanOutcome, ScanStatus, ScanSummary, Severity, scan_files
from budgraph.scanning.modelscan_runner import NO_CODE_DETAIL
from tests.scanning.conftest import STREAM_MAX_LENGTH, Clamd, eicar, evil_pickle, requires_clamd, safetensors

pytestmark = requires_clamd
LIMITS = ScanLimits(clamd_stream_max_length=STREAM_MAX_LENGTH)


def clean_model(root: Path) -> list[str]:
    (root / "config.json").write_text('{"architectures": ["LlamaForCausalLM"]}')
    safetensors(root / "model.safetensors")
    (root / "training_args.pkl").write_bytes(pickle.dumps({"lr": 0.001, "epochs": 3}, protocol=4))
    (root / "extra").mkdir()
    np.save(root / "extra" / "bias.npy", np.zeros(8, dtype=np.float16))
    return ["config.json", "model.safetensors", "training_args.pkl", "extra/bias.npy"]


async def test_a_clean_model_is_clean(clamd: Clamd, tmp_path: Path) -> None:
    files = clean_model(tmp_path)
    calls: list[tuple[int, str]] = []

    async def progress(done: int, path: str) -> None:
        calls.append((done, path))

    report = await scan_files(tmp_path, files, clamd.address, progress, limits=LIMITS)

    assert report.summary is ScanSummary.CLEAN
    assert report.outcomes == [
        ScanOutcome("modelscan", "config.json", ScanStatus.CLEAN, detail=NO_CODE_DETAIL),
        ScanOutcome("clamav", "config.json", ScanStatus.CLEAN),
        ScanOutcome("modelscan", "model.safetensors", ScanStatus.CLEAN, detail=NO_CODE_DETAIL),
        ScanOutcome("clamav", "model.safetensors", ScanStatus.CLEAN),
        ScanOutcome("modelscan", "training_args.pkl", ScanStatus.CLEAN),
        ScanOutcome("clamav", "training_args.pkl", ScanStatus.CLEAN),
        ScanOutcome("modelscan", "extra/bias.npy", ScanStatus.CLEAN),
        ScanOutcome("clamav", "extra/bias.npy", ScanStatus.CLEAN),
    ]
    assert [done for done, _ in calls] == [1, 2, 3, 4]
    assert sorted(path for _, path in calls) == sorted(files)
    assert report.scanner_versions["modelscan"] == "0.8.8"
    assert report.scanner_versions["clamav"].startswith("ClamAV 1.")


async def test_eicar_makes_the_model_unsafe(clamd: Clamd, tmp_path: Path) -> None:
    files = clean_model(tmp_path)
    (tmp_path / "notes.txt").write_bytes(eicar())

    report = await scan_files(tmp_path, [*files, "notes.txt"], clamd.address, limits=LIMITS)

    assert report.summary is ScanSummary.UNSAFE
    assert report.outcomes[-2:] == [
        ScanOutcome("modelscan", "notes.txt", ScanStatus.CLEAN, detail=NO_CODE_DETAIL),
        ScanOutcome(
            "clamav",
            "notes.txt",
            ScanStatus.FINDING,
            severity=Severity.CRITICAL,
            finding="Eicar-Test-Signature.UNOFFICIAL",
        ),
    ]


async def test_a_malicious_pickle_makes_the_model_unsafe(clamd: Clamd, tmp_path: Path) -> None:
    files = clean_model(tmp_path)
    (tmp_path / "optimizer.pt").write_bytes(evil_pickle(tmp_path / "pwned"))

    report = await scan_files(tmp_path, [*files, "optimizer.pt"], clamd.address, limits=LIMITS)

    assert report.summary is ScanSummary.UNSAFE
    modelscan, clamav = report.outcomes[-2:]
    assert (modelscan.status, modelscan.severity) == (ScanStatus.FINDING, Severity.CRITICAL)
    assert clamav == ScanOutcome("clamav", "optimizer.pt", ScanStatus.CLEAN)
    assert not (tmp_path / "pwned").exists()


async def test_a_file_clamd_cannot_take_makes_the_scan_an_error(clamd: Clamd, tmp_path: Path) -> None:
    files = clean_model(tmp_path)
    safetensors(tmp_path / "large.safetensors")
    with (tmp_path / "large.safetensors").open("ab") as large:
        large.write(bytes(STREAM_MAX_LENGTH))

    report = await scan_files(tmp_path, [*files, "large.safetensors"], clamd.address, limits=LIMITS)

    assert report.summary is ScanSummary.ERROR
    assert report.outcomes[-1].status is ScanStatus.NOT_SCANNED
    assert report.outcomes[-2] == ScanOutcome(
        "modelscan", "large.safetensors", ScanStatus.CLEAN, detail=NO_CODE_DETAIL
    )


async def test_clamd_down_is_an_error_never_clean(tmp_path: Path) -> None:
    files = clean_model(tmp_path)

    report = await scan_files(tmp_path, files, f"unix://{tmp_path}/no-clamd.sock", limits=LIMITS)

    assert report.summary is ScanSummary.ERROR
    assert {outcome.status for outcome in report.outcomes if outcome.scanner == "modelscan"} == {
        ScanStatus.CLEAN
    }
    assert {outcome.status for outcome in report.outcomes if outcome.scanner == "clamav"} == {
        ScanStatus.ERROR
    }
    assert "clamav" not in report.scanner_versions


async def test_paths_outside_the_root_or_missing_are_errors(clamd: Clamd, tmp_path: Path) -> None:
    root = tmp_path / "model"
    root.mkdir()
    (tmp_path / "secret.pkl").write_bytes(pickle.dumps(1))
    (root / "sub").mkdir()

    report = await scan_files(
        root,
        ["../secret.pkl", str(tmp_path / "secret.pkl"), "missing.bin", "sub"],
        clamd.address,
        limits=LIMITS,
    )

    assert report.summary is ScanSummary.ERROR
    assert [(outcome.status, outcome.detail) for outcome in report.outcomes] == [
        (ScanStatus.ERROR, "not a path inside the model root"),
        (ScanStatus.ERROR, "not a path inside the model root"),
        (ScanStatus.ERROR, "not a path inside the model root"),
        (ScanStatus.ERROR, "not a path inside the model root"),
        (ScanStatus.ERROR, "not a regular file under the model root"),
        (ScanStatus.ERROR, "not a regular file under the model root"),
        (ScanStatus.ERROR, "not a regular file under the model root"),
        (ScanStatus.ERROR, "not a regular file under the model root"),
    ]
