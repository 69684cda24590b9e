"""A local HTTP server speaking the parts of the Hugging Face Hub API that extraction uses, plus plain
static files (for UrlModelFiles). It records every request so tests can check what was fetched."""

from __future__ import annotations

import contextlib
import hashlib
import json
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

VALID_TOKEN = "hf_test_token"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    range: str | None
    authorization: str | None
    host: str | None


@dataclass
class HubRepo:
    folder: Path
    sha: str
    gated: bool | str = False

    def files(self) -> dict[str, Path]:
        return {
            p.relative_to(self.folder).as_posix(): p for p in sorted(self.folder.rglob("*")) if p.is_file()
        }


@dataclass
class HubState:
    repos: dict[str, HubRepo] = field(default_factory=dict)
    static: dict[str, Path] = field(default_factory=dict)  # /static/<name>/... serves that folder
    failures: dict[str, int] = field(default_factory=dict)  # path prefix -> status to answer with
    delays: dict[str, float] = field(default_factory=dict)  # path prefix -> seconds before answering
    redirects: dict[str, str] = field(default_factory=dict)  # exact path -> Location
    ignore_range: bool = False
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_repo(self, repo_id: str, folder: Path, gated: bool | str = False) -> HubRepo:
        sha = hashlib.sha1(repo_id.encode()).hexdigest()
        self.repos[repo_id] = HubRepo(folder, sha, gated)
        return self.repos[repo_id]


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """``bytes=a-b`` as the half-open ``[a, b+1)`` clipped to the file; ``None`` if unsatisfiable."""
    first, _, last = header.removeprefix("bytes=").partition("-")
    start = int(first)
    end = min(int(last) + 1 if last else size, size)
    return (start, end) if start < end else None


class HubHandler(BaseHTTPRequestHandler):
    state: HubState  # set on the subclass made per server

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        return None

    def do_HEAD(self) -> None:
        self._handle(head=True)

    def do_GET(self) -> None:
        self._handle(head=False)

    def _handle(self, head: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        for prefix, seconds in list(self.state.delays.items()):
            if path.startswith(prefix):
                time.sleep(seconds)
        request = Request(
            self.command,
            path,
            self.headers.get("Range"),
            self.headers.get("Authorization"),
            self.headers.get("Host"),
        )
        with self.state.lock:
            self.state.requests.append(request)
        for prefix, status in self.state.failures.items():
            if path.startswith(prefix):
                return self._reply(status, b"failure injected", head=head)
        if path in self.state.redirects:
            return self._reply(302, b"", head=head, headers={"Location": self.state.redirects[path]})
        if path.startswith("/api/models/"):
            return self._model_info(path.removeprefix("/api/models/"), head)
        if path.startswith("/static/"):
            name, _, rest = path.removeprefix("/static/").partition("/")
            folder = self.state.static.get(name)
            target = folder / rest if folder is not None else None
            if target is None or not target.is_file():
                return self._reply(404, b"not found", head=head)
            return self._file(target, head, {})
        if "/resolve/" in path:
            return self._resolve(path, head)
        return self._reply(404, b"unknown route", head=head)

    def _model_info(self, rest: str, head: bool) -> None:
        repo_id, _, revision = rest.partition("/revision/")
        repo = self.state.repos.get(repo_id)
        if repo is None:
            return self._error(404, "RepoNotFound", "Repository not found", head)
        if revision not in ("", "main", repo.sha):
            return self._error(404, "RevisionNotFound", "Invalid rev id", head)
        siblings = [{"rfilename": name, "size": p.stat().st_size} for name, p in repo.files().items()]
        body = {"id": repo_id, "modelId": repo_id, "sha": repo.sha, "private": False, "gated": repo.gated}
        body |= {"disabled": False, "tags": [], "siblings": siblings}
        self._reply(200, json.dumps(body).encode(), head=head, headers={"Content-Type": "application/json"})

    def _resolve(self, path: str, head: bool) -> None:
        repo_path, _, rest = path.lstrip("/").partition("/resolve/")
        revision, _, file = rest.partition("/")
        repo = self.state.repos.get(repo_path)
        if repo is None:
            return self._error(404, "RepoNotFound", "Repository not found", head)
        if revision not in ("main", repo.sha):
            return self._error(404, "RevisionNotFound", "Invalid rev id", head)
        if repo.gated and self.headers.get("Authorization") != f"Bearer {VALID_TOKEN}":
            return self._error(401, "GatedRepo", "Access to this model is restricted", head)
        target = repo.files().get(file)
        if target is None:
            return self._error(404, "EntryNotFound", "Entry not found", head, {"X-Repo-Commit": repo.sha})
        return self._file(target, head, {"X-Repo-Commit": repo.sha})

    def _file(self, target: Path, head: bool, extra: dict[str, str]) -> None:
        data = target.read_bytes()
        headers = {"ETag": f'"{hashlib.sha256(data).hexdigest()}"', "Accept-Ranges": "bytes", **extra}
        wanted = self.headers.get("Range")
        if wanted and not self.state.ignore_range:
            span = parse_range(wanted, len(data))
            if span is None:
                return self._reply(416, b"", head=head, headers={"Content-Range": f"bytes */{len(data)}"})
            start, end = span
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{len(data)}"
            return self._reply(206, data[start:end], head=head, headers=headers)
        return self._reply(200, data, head=head, headers=headers)

    def _error(
        self, status: int, code: str, message: str, head: bool, extra: dict[str, str] | None = None
    ) -> None:
        headers = {
            "X-Error-Code": code,
            "X-Error-Message": message,
            "Content-Type": "application/json",
            **(extra or {}),
        }
        self._reply(status, json.dumps({"error": message}).encode(), head=head, headers=headers)

    def _reply(self, status: int, body: bytes, *, head: bool, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client stopped reading
                self.wfile.write(body)


@dataclass
class RunningServer:
    state: HubState
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def hub_server(tls: ssl.SSLContext | None = None) -> Iterator[RunningServer]:
    state = HubState()
    handler = type("BoundHubHandler", (HubHandler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="fake-hub", daemon=True)
    thread.start()
    try:
        yield RunningServer(state, server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
