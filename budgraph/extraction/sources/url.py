"""A model's files under an operator-given http(s) base URL, fetched without server-side request forgery.

Every request (and every redirect hop) resolves the host, refuses non-public addresses unless allowed,
and connects to the very address that was checked (the Host header and TLS SNI keep the name), so a DNS
answer that changes between check and connect cannot redirect the request. Proxies from the environment
are ignored for the same reason.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote, urljoin, urlunsplit

import httpx

from budgraph.extraction.errors import ExtractionFailed, FileTooLarge, SourceUnavailable
from budgraph.extraction.sources.addresses import (
    DEFAULT_PORTS,
    IPNetwork,
    Resolver,
    checked_address,
    parse_networks,
    split_url,
    system_resolver,
)
from budgraph.extraction.sources.base import (
    MAX_SMALL_FILE_BYTES,
    RemoteFile,
    check_range,
    check_range_result,
    check_small_read,
    error_for_status,
)
from budgraph.kit.transport import transport_reason

# A plain web server has no listing: these are looked for; shards are named by the index.
WELL_KNOWN_FILES = (
    "config.json",
    "generation_config.json",
    "tokenizer_config.json",
    "README.md",
    "model.safetensors.index.json",
    "model.safetensors",
)


@dataclass(frozen=True)
class _Reply:
    status: int
    headers: httpx.Headers
    body: bytes


class UrlModelFiles:
    """Files under ``base_url``; ``files`` names them when the server has more than the well-known ones.
    ``trusted_networks`` are internal networks allowed even when ``allow_private`` is false; ``verify``
    takes an SSL context for a mirror whose certificate comes from a private CA."""

    def __init__(
        self,
        base_url: str,
        allow_private: bool = False,
        *,
        files: Sequence[str] | None = None,
        trusted_networks: Sequence[str | IPNetwork] = (),
        timeout: float = 10.0,
        max_redirects: int = 5,
        resolver: Resolver = system_resolver,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        parts = split_url(base_url)
        self._base = parts._replace(path=parts.path.rstrip("/") + "/", fragment="")
        self.allow_private = allow_private
        self.timeout = timeout
        self.max_redirects = max_redirects
        self._files = list(files) if files is not None else None
        self._trusted = parse_networks(trusted_networks)
        self._resolver = resolver
        self._verify = verify
        self._listed: list[RemoteFile] | None = None

    @property
    def gated(self) -> bool | None:
        return None

    @property
    def revision(self) -> str | None:
        return None

    def url_for(self, path: str) -> str:
        relative = PurePosixPath(path)
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            raise ExtractionFailed(f"invalid file path {path!r}")
        return urlunsplit(self._base._replace(path=self._base.path + quote(relative.as_posix())))

    def list_files(self) -> list[RemoteFile]:
        if self._listed is None:
            listed: list[RemoteFile] = []
            for path in self._files if self._files is not None else WELL_KNOWN_FILES:
                present, size = self._probe(path)
                if present:
                    listed.append(RemoteFile(path, size))
            self._listed = listed
        return list(self._listed)

    def read_bytes(self, path: str, max_bytes: int = MAX_SMALL_FILE_BYTES) -> bytes:
        check_small_read(path, None, max_bytes)
        reply = self._send("GET", self.url_for(path), {}, max_bytes + 1)
        if reply.status != 200:
            raise error_for_status(reply.status, path)
        if len(reply.body) > max_bytes:
            raise FileTooLarge(f"{path} is over the {max_bytes}-byte cap")
        return reply.body

    def read_range(self, path: str, start: int, end: int) -> bytes:
        check_range(path, start, end)
        if end == start:
            return b""
        reply = self._send("GET", self.url_for(path), {"Range": f"bytes={start}-{end - 1}"}, end)
        if reply.status == 206:
            return check_range_result(path, start, end, reply.body[: end - start])
        if reply.status == 200:  # the server ignored Range; only the first `end` bytes were read
            return check_range_result(path, start, end, reply.body[start:end])
        raise error_for_status(reply.status, f"{path} bytes [{start}, {end})")

    def _probe(self, path: str) -> tuple[bool, int | None]:
        reply = self._send("HEAD", self.url_for(path), {}, 0)
        if reply.status in (405, 501):  # no HEAD support: ask for one byte instead
            reply = self._send("GET", self.url_for(path), {"Range": "bytes=0-0"}, 1)
        if reply.status == 404:
            return False, None
        if reply.status not in (200, 206):
            raise error_for_status(reply.status, path)
        total = reply.headers.get("content-range", "").rpartition("/")[2]
        length = total if reply.status == 206 else reply.headers.get("content-length", "")
        return True, int(length) if length.isdigit() else None

    def _send(self, method: str, url: str, headers: dict[str, str], limit: int) -> _Reply:
        for _ in range(self.max_redirects + 1):
            parts = split_url(url)
            hostname = parts.hostname or ""
            port = parts.port or DEFAULT_PORTS[parts.scheme]
            address = checked_address(
                hostname,
                port,
                allow_private=self.allow_private,
                trusted=self._trusted,
                resolver=self._resolver,
            )
            pinned = f"[{address}]" if address.version == 6 else str(address)
            target = urlunsplit(parts._replace(netloc=f"{pinned}:{port}", fragment=""))
            extensions: dict[str, Any] = {}
            if parts.scheme == "https":
                extensions["sni_hostname"] = hostname
            request_headers = {**headers, "Host": parts.netloc, "Accept-Encoding": "identity"}
            reply = self._exchange(method, target, request_headers, extensions, limit, url)
            location = reply.headers.get("location")
            if reply.status in (301, 302, 303, 307, 308) and location:
                url = urljoin(url, location)
                continue
            return reply
        raise ExtractionFailed(f"too many redirects from {url}")

    def _exchange(
        self,
        method: str,
        target: str,
        headers: dict[str, str],
        extensions: dict[str, Any],
        limit: int,
        url: str,
    ) -> _Reply:
        try:
            with (
                httpx.Client(
                    timeout=self.timeout, follow_redirects=False, trust_env=False, verify=self._verify
                ) as client,
                client.stream(method, target, headers=headers, extensions=extensions) as response,
            ):
                body = bytearray()
                if method != "HEAD" and limit > 0:
                    for chunk in response.iter_bytes():
                        body += chunk
                        if len(body) >= limit:
                            break
                return _Reply(response.status_code, response.headers, bytes(body[:limit]))
        except httpx.TransportError as error:
            if isinstance(error, httpx.UnsupportedProtocol):
                raise ExtractionFailed(f"{url}: only http and https URLs can be read") from error
            if _is_certificate_error(error):
                raise ExtractionFailed(f"{url}: its TLS certificate does not verify") from error
            raise SourceUnavailable(f"{url}: {transport_reason(error)}; try again later") from error


def _is_certificate_error(error: BaseException) -> bool:
    """A TLS certificate that does not verify is permanent, unlike other connection failures."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
