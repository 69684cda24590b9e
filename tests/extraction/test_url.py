"""UrlModelFiles: files under an http(s) base URL, guarded against server-side request forgery.

Refused addresses are refused before any connection: these tests never send traffic anywhere but to
the local test server on 127.0.0.1.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from ipaddress import ip_address
from pathlib import Path

import pytest

from budgraph.extraction import (
    ExtractionFailed,
    FileTooLarge,
    LocalModelFiles,
    SourceUnavailable,
    UnsafeUrl,
    UrlModelFiles,
    extract,
)
from budgraph.extraction.sources import unsafe_reason
from budgraph.extraction.sources.addresses import IPAddress, Resolver
from tests.extraction.conftest import Repos
from tests.extraction.hub_server import RunningServer, hub_server

UNSAFE_ADDRESSES = [
    ("127.0.0.1", "loopback"),
    ("10.0.0.1", "private"),
    ("172.16.5.4", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"),  # cloud metadata
    ("100.64.0.1", "not globally routable"),  # carrier-grade NAT
    ("0.0.0.0", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fe80::1", "link-local"),
    ("fc00::1", "private"),
    ("ff02::1", "multicast"),
    ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
    ("::ffff:a9fe:a9fe", "link-local"),  # IPv4-mapped 169.254.169.254
    ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
    ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
]


@pytest.mark.parametrize(("address", "kind"), UNSAFE_ADDRESSES)
def test_non_public_addresses_are_unsafe(address: str, kind: str) -> None:
    reason = unsafe_reason(ip_address(address))
    assert reason is not None
    assert reason.startswith(kind), reason


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert unsafe_reason(ip_address(address)) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/static/llama",
        "http://localhost:{port}/static/llama",
        "http://10.0.0.1/models/llama",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:{port}/static/llama",
        "http://[::ffff:127.0.0.1]:{port}/static/llama",
        "https://[::ffff:10.0.0.1]/models",
        "http://0x7f000001/models",
    ],
)
def test_internal_hosts_are_refused(hub: RunningServer, url: str) -> None:
    files = UrlModelFiles(url.format(port=hub.port))
    with pytest.raises(UnsafeUrl, match="refusing to fetch"):
        files.list_files()
    assert hub.state.requests == []


@pytest.mark.parametrize(
    "url",
    ["ftp://example.org/model", "file:///etc/passwd", "gopher://x/", "http:///nohost", "http://u:p@host/"],
)
def test_only_plain_http_and_https_urls(url: str) -> None:
    with pytest.raises(UnsafeUrl):
        UrlModelFiles(url)


async def test_allow_private_reads_a_local_server(hub: RunningServer, repos: Repos) -> None:
    files = UrlModelFiles(f"{hub.url}/static/llama", allow_private=True)

    facts = await extract(files)

    local = await extract(LocalModelFiles(repos.llama))
    assert facts.as_dict() == local.as_dict()
    assert facts.parameter_count == 106_816
    listed = {file.path: file.size for file in files.list_files()}
    assert listed["config.json"] == (repos.llama / "config.json").stat().st_size
    assert "model.safetensors" not in listed
    assert "pytorch_model.bin" not in listed
    weight_gets = [r for r in hub.state.requests if r.path.endswith(".safetensors") and r.method == "GET"]
    assert len(weight_gets) == 4
    assert all(r.range is not None for r in weight_gets)


def _resolver(table: dict[str, list[str]]) -> Resolver:
    def resolve(host: str, port: int) -> list[IPAddress]:
        return [ip_address(a) for a in table[host]]

    return resolve


def test_connects_to_the_checked_address_and_keeps_the_host_name(hub: RunningServer) -> None:
    resolver = _resolver({"models.example.test": ["127.0.0.1"]})
    base = f"http://models.example.test:{hub.port}/static/llama"
    refused = UrlModelFiles(base, resolver=resolver)
    with pytest.raises(UnsafeUrl, match="resolves to a loopback address"):
        refused.read_bytes("config.json")

    files = UrlModelFiles(base, trusted_networks=["127.0.0.1/32"], resolver=resolver)

    assert files.read_bytes("config.json").startswith(b"{")
    assert hub.state.requests[-1].host == f"models.example.test:{hub.port}"


def test_a_name_resolving_to_any_internal_address_is_refused() -> None:
    resolver = _resolver({"mixed.example.test": ["93.184.216.34", "10.0.0.7"]})
    with pytest.raises(UnsafeUrl, match=r"private address 10\.0\.0\.7"):
        UrlModelFiles("https://mixed.example.test/m", resolver=resolver).list_files()


@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/config.json",
        "http://[::ffff:10.0.0.1]/config.json",
        "http://rebound.example.test/config.json",
        "file:///etc/passwd",
    ],
)
def test_redirects_are_checked_again(hub: RunningServer, location: str) -> None:
    hub.state.redirects["/static/llama/config.json"] = location
    resolver = _resolver({"rebound.example.test": ["10.9.8.7"]})
    files = UrlModelFiles(f"{hub.url}/static/llama", trusted_networks=["127.0.0.1/32"], resolver=resolver)
    with pytest.raises(UnsafeUrl):
        files.read_bytes("config.json")
    assert len(hub.state.requests) == 1


def test_redirect_to_an_allowed_place_is_followed(hub: RunningServer) -> None:
    hub.state.redirects["/static/llama/config.json"] = "/static/llama/generation_config.json"
    files = UrlModelFiles(f"{hub.url}/static/llama", allow_private=True)
    assert b"eos_token_id" in files.read_bytes("config.json")


def test_range_reads_and_size_caps(hub: RunningServer, repos: Repos) -> None:
    files = UrlModelFiles(f"{hub.url}/static/llama", allow_private=True)
    shard = "model-00001-of-00002.safetensors"
    expected = (repos.llama / shard).read_bytes()[8:40]

    assert files.read_range(shard, 8, 40) == expected
    hub.state.ignore_range = True  # a server answering 200 with the whole file: only `end` bytes are kept
    assert files.read_range(shard, 8, 40) == expected
    with pytest.raises(FileTooLarge):
        files.read_bytes("README.md", max_bytes=10)
    with pytest.raises(ExtractionFailed, match="refusing to read weight file"):
        files.read_bytes(shard)
    with pytest.raises(ExtractionFailed, match="invalid file path"):
        files.read_bytes("../llama/config.json")


@pytest.mark.parametrize(
    ("status", "error"), [(503, SourceUnavailable), (429, SourceUnavailable), (403, ExtractionFailed)]
)
def test_http_failures(hub: RunningServer, status: int, error: type[Exception]) -> None:
    hub.state.failures["/static/llama/config.json"] = status
    with pytest.raises(error, match=f"HTTP {status}"):
        UrlModelFiles(f"{hub.url}/static/llama", allow_private=True).list_files()


def test_missing_files_are_left_out_and_refused_connections_are_transient(hub: RunningServer) -> None:
    files = UrlModelFiles(f"{hub.url}/static/llama", allow_private=True, files=["config.json", "nope.json"])
    assert [f.path for f in files.list_files()] == ["config.json"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SourceUnavailable):
        UrlModelFiles(f"http://127.0.0.1:{port}/m", allow_private=True, timeout=2).list_files()


def _certificate(folder: Path, name: str) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    command += [
        "-keyout",
        str(key),
        "-out",
        str(cert),
        "-subj",
        f"/CN={name}",
        "-addext",
        f"subjectAltName=DNS:{name}",
    ]
    subprocess.run(command, check=True, capture_output=True)
    return cert, key


@pytest.mark.parametrize(
    ("certificate_name", "works"), [("models.example.test", True), ("other.example.test", False)]
)
def test_https_is_pinned_to_the_checked_address_and_verified_against_the_name(
    tmp_path: Path, repos: Repos, certificate_name: str, works: bool
) -> None:
    cert, key = _certificate(tmp_path, certificate_name)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    client_context = ssl.create_default_context(cafile=str(cert))
    with hub_server(tls=server_context) as server:
        server.state.static["llama"] = repos.llama
        files = UrlModelFiles(
            f"https://models.example.test:{server.port}/static/llama",
            trusted_networks=["127.0.0.1/32"],
            resolver=_resolver({"models.example.test": ["127.0.0.1"]}),
            verify=client_context,
        )
        if works:
            assert files.read_bytes("config.json").startswith(b"{")
            assert server.state.requests[-1].host == f"models.example.test:{server.port}"
        else:
            with pytest.raises(ExtractionFailed, match="certificate"):
                files.read_bytes("config.json")
            assert server.state.requests == []
