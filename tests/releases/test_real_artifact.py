"""An importer on a real artifact downloaded from the package index (when the index is reachable)."""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from budgraph.releases.extract import SOURCES
from budgraph.releases.importers import import_release

INDEX_HOST = "pypi.org"


def index_reachable() -> str | None:
    """None when the package index answers, else why not."""
    try:
        socket.create_connection((INDEX_HOST, 443), timeout=5).close()
    except OSError as exc:
        return f"the package index {INDEX_HOST} is not reachable ({exc})"
    return None


@pytest.mark.slow
def test_a_downloaded_sglang_wheel_gives_the_shipped_facts(tmp_path: Path) -> None:
    why = index_reachable()
    if why is not None:
        pytest.skip(f"{why}: this test downloads sglang 0.5.23 with pip")
    manifest = json.loads((SOURCES / "sglang" / "0.5.23" / "MANIFEST.json").read_text())
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--only-binary",
            ":all:",
            "sglang==0.5.23",
            "-d",
            str(tmp_path),
        ],
        check=True,
        timeout=600,
    )
    (wheel,) = tmp_path.glob("sglang-0.5.23-*.whl")
    assert wheel.name == manifest["artifact"]
    assert hashlib.sha256(wheel.read_bytes()).hexdigest() == manifest["artifact_sha256"]
    downloaded = import_release("sglang", "0.5.23", wheel)
    assert downloaded == import_release("sglang", "0.5.23", SOURCES / "sglang" / "0.5.23")
    assert "LlamaForCausalLM" in {a.class_name for a in downloaded.architectures}
