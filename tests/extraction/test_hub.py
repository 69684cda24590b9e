"""HubModelFiles against a local server speaking the Hub's HTTP API: metadata only, never weights."""

from __future__ import annotations

import json
import socket
import struct
from pathlib import Path

import pytest

from budgraph.extraction import (
    ExtractionFailed,
    HubModelFiles,
    LocalModelFiles,
    SourceUnavailable,
    extract,
)
from budgraph.extraction.sources import is_weight_file
from tests.extraction.conftest import Repos
from tests.extraction.hub_server import VALID_TOKEN, RunningServer, parse_range


def _header_end(file: Path) -> int:
    """Where the tensor data of a safetensors file starts (8 + header length)."""
    length: int = struct.unpack("<Q", file.read_bytes()[:8])[0]
    return 8 + length


def assert_only_headers_fetched(hub: RunningServer, folder: Path) -> None:
    weight_requests = [r for r in hub.state.requests if is_weight_file(r.path)]
    assert weight_requests, "the safetensors headers should have been read"
    for request in weight_requests:
        assert request.path.endswith(".safetensors"), request  # never .bin or other weight files
        assert request.method == "GET", request
        assert request.range is not None, request
        file = folder / request.path.rpartition("/")[2]
        span = parse_range(request.range, file.stat().st_size)
        assert span is not None, request
        assert span[1] <= _header_end(file), request  # not one byte of tensor data


async def test_extracts_a_sharded_model_from_the_hub(hub: RunningServer, repos: Repos) -> None:
    files = HubModelFiles("budtest/tiny-llama", endpoint=hub.url)
    steps: list[tuple[int, str]] = []

    async def progress(percent: int, step: str) -> None:
        steps.append((percent, step))

    with files:
        facts = await extract(files, progress)

    repo = hub.state.repos["budtest/tiny-llama"]
    assert (facts.revision, facts.gated) == (repo.sha, False)
    assert facts.provenance["revision"] == "source revision"
    local = await extract(LocalModelFiles(repos.llama))
    assert facts.parameter_count == local.parameter_count == 106_816
    skip = {"revision", "gated", "provenance"}
    assert {k: v for k, v in facts.as_dict().items() if k not in skip} == {
        k: v for k, v in local.as_dict().items() if k not in skip
    }
    assert_only_headers_fetched(hub, repos.llama)
    # 2 shards x (length + header) range reads
    assert len([r for r in hub.state.requests if r.path.endswith(".safetensors")]) == 4
    whole = [r for r in hub.state.requests if "/resolve/" in r.path and r.method == "GET" and r.range is None]
    assert {r.path.rpartition("/")[2] for r in whole} == {
        "model.safetensors.index.json",
        "config.json",
        "README.md",
    }
    assert all(f"/resolve/{repo.sha}/" in r.path for r in hub.state.requests if "/resolve/" in r.path)
    percents = [percent for percent, _ in steps]
    assert percents == sorted(percents)
    assert percents[0] == 0
    assert percents[-1] == 100
    assert [step for _, step in steps][:4] == [
        "listing files",
        "reading config.json",
        "reading model card",
        "reading safetensors headers",
    ]


async def test_gptq_and_moe_from_the_hub(hub: RunningServer, repos: Repos) -> None:
    gptq = await extract(HubModelFiles("budtest/tiny-gptq", endpoint=hub.url))
    mixtral = await extract(HubModelFiles("budtest/tiny-mixtral", endpoint=hub.url))

    assert (gptq.parameter_count, gptq.quantization_method, gptq.quantization_bits) == (106_816, "gptq", 4)
    assert (mixtral.parameter_count, mixtral.active_parameter_count) == (63_904, 39_328)
    assert_only_headers_fetched(hub, repos.gptq)


async def test_configs_without_weights_from_the_hub(hub: RunningServer) -> None:
    llava = await extract(HubModelFiles("budtest/tiny-llava", endpoint=hub.url))
    remote = await extract(HubModelFiles("budtest/remote-code", endpoint=hub.url))
    deepseek = await extract(HubModelFiles("budtest/deepseek-v3", endpoint=hub.url))

    assert (llava.modality, llava.context_length) == ("vision-language", 4096)
    assert remote.warnings[0].startswith("config.json read as plain JSON")
    assert deepseek.kv_cache_bytes_per_token == 70_272
    fetched = {r.path.rpartition("/")[2] for r in hub.state.requests if "/resolve/" in r.path}
    assert "configuration_budtest.py" not in fetched


async def test_gated_repository_needs_a_token(hub: RunningServer, repos: Repos) -> None:
    with pytest.raises(ExtractionFailed, match="gated"):
        await extract(HubModelFiles("budtest/gated-llama", endpoint=hub.url))

    facts = await extract(HubModelFiles("budtest/gated-llama", endpoint=hub.url, token=VALID_TOKEN))

    assert (facts.gated, facts.parameter_count) == (True, 106_816)
    ranged = [r for r in hub.state.requests if r.range is not None]
    assert ranged
    assert all(r.authorization == f"Bearer {VALID_TOKEN}" for r in ranged)


async def test_missing_repository_and_revision_are_permanent(hub: RunningServer) -> None:
    with pytest.raises(ExtractionFailed, match="repository not found"):
        await extract(HubModelFiles("budtest/no-such-model", endpoint=hub.url))
    with pytest.raises(ExtractionFailed, match="revision not found"):
        await extract(HubModelFiles("budtest/tiny-llama", revision="v9", endpoint=hub.url))
    with pytest.raises(ExtractionFailed):
        await extract(HubModelFiles("not a valid repo id!", endpoint=hub.url))


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_server_errors_are_transient(hub: RunningServer, status: int) -> None:
    hub.state.failures["/api/models/"] = status
    with pytest.raises(SourceUnavailable, match=f"HTTP {status}"):
        await extract(HubModelFiles("budtest/tiny-llama", endpoint=hub.url))


async def test_failures_while_reading_files(hub: RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # huggingface_hub retries a failing HEAD 5 times with backoff (23 s): skip its waits
    monkeypatch.setattr("huggingface_hub.utils._http.time.sleep", lambda seconds: None)
    hub.state.failures["/budtest/tiny-llama/resolve/"] = 503
    with pytest.raises(SourceUnavailable):
        await extract(HubModelFiles("budtest/tiny-llama", endpoint=hub.url))

    files = HubModelFiles("budtest/tiny-llama", endpoint=hub.url)
    with pytest.raises(SourceUnavailable, match="HTTP 503"):
        files.read_range("model-00001-of-00002.safetensors", 0, 8)
    hub.state.failures.clear()
    with pytest.raises(ExtractionFailed, match="file not found"):
        files.read_range("no-such.safetensors", 0, 8)
    with pytest.raises(ExtractionFailed, match=r"no file 'missing\.json'"):
        files.read_bytes("missing.json")


async def test_unreachable_endpoint_is_transient() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SourceUnavailable) as raised:
        await extract(HubModelFiles("budtest/tiny-llama", endpoint=f"http://127.0.0.1:{port}", timeout=5))
    # said in words: no library exception names or errno texts
    assert (
        raised.value.message
        == "model budtest/tiny-llama: the Hub could not be used (the connection was refused)"
    )


def test_weight_files_are_never_downloaded_whole(hub: RunningServer) -> None:
    files = HubModelFiles("budtest/tiny-llama", endpoint=hub.url)
    for path in ("model-00001-of-00002.safetensors", "pytorch_model.bin"):
        with pytest.raises(ExtractionFailed, match="refusing to read weight file"):
            files.read_bytes(path)
    assert not [r for r in hub.state.requests if is_weight_file(r.path)]
    assert json.loads(files.read_bytes("config.json"))["model_type"] == "llama"
