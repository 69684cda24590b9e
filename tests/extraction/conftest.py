"""Fixture repositories (built once per session) and the local Hub server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.extraction import builders
from tests.extraction.hub_server import RunningServer, hub_server


@dataclass(frozen=True)
class Repos:
    llama: Path
    gptq: Path
    awq: Path
    compressed: Path
    mixtral: Path
    llava: Path
    remote_code: Path
    deepseek_v3: Path


@pytest.fixture(scope="session")
def repos(tmp_path_factory: pytest.TempPathFactory) -> Repos:
    root = tmp_path_factory.mktemp("repos")
    return Repos(
        llama=builders.write_llama(root / "llama"),
        gptq=builders.write_quantized_llama(root / "gptq", "gptq"),
        awq=builders.write_quantized_llama(root / "awq", "awq"),
        compressed=builders.write_quantized_llama(root / "compressed", "compressed-tensors"),
        mixtral=builders.write_mixtral(root / "mixtral"),
        llava=builders.write_llava(root / "llava"),
        remote_code=builders.write_remote_code(root / "remote-code"),
        deepseek_v3=builders.write_deepseek_v3(root / "deepseek-v3"),
    )


@pytest.fixture
def hub(repos: Repos) -> Iterator[RunningServer]:
    with hub_server() as server:
        server.state.add_repo("budtest/tiny-llama", repos.llama)
        server.state.add_repo("budtest/tiny-gptq", repos.gptq)
        server.state.add_repo("budtest/tiny-mixtral", repos.mixtral)
        server.state.add_repo("budtest/tiny-llava", repos.llava)
        server.state.add_repo("budtest/remote-code", repos.remote_code)
        server.state.add_repo("budtest/deepseek-v3", repos.deepseek_v3)
        server.state.add_repo("budtest/gated-llama", repos.llama, gated="manual")
        server.state.static["llama"] = repos.llama
        yield server
