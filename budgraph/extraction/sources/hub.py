"""A model repository on the Hugging Face Hub (or a Hub-compatible endpoint).

Only metadata is fetched: the repository info, small files through ``hf_hub_download``, and the header
bytes of safetensors files through HTTP range requests. Weight files are never downloaded.
"""

from __future__ import annotations

import importlib
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from huggingface_hub import HfApi, ModelInfo, get_session, hf_hub_download, hf_hub_url, hf_raise_for_status
from huggingface_hub.errors import (
    EntryNotFoundError,
    FileMetadataError,
    GatedRepoError,
    HfHubHTTPError,
    HFValidationError,
    LocalEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from budgraph.extraction.errors import ExtractionError, ExtractionFailed, SourceNotFound, SourceUnavailable
from budgraph.extraction.sources.base import (
    MAX_SMALL_FILE_BYTES,
    RemoteFile,
    check_range,
    check_range_result,
    check_small_read,
    error_for_status,
)
from budgraph.kit.transport import transport_reason


def _transport_errors() -> tuple[type[BaseException], ...]:
    # huggingface_hub 1.x talks through httpx, 2.x through httpx2: catch whichever is installed.
    found: list[type[BaseException]] = [ConnectionError, TimeoutError]
    for name in ("httpx2", "httpx"):
        try:
            found.append(importlib.import_module(name).TransportError)
        except ImportError:
            continue
    return tuple(found)


_TRANSPORT_ERRORS = _transport_errors()
_HUB_ERRORS: tuple[type[BaseException], ...] = (
    HfHubHTTPError,
    EntryNotFoundError,
    HFValidationError,
    FileMetadataError,
    *_TRANSPORT_ERRORS,
)


def _classify(error: BaseException, what: str) -> ExtractionError:
    if isinstance(error, GatedRepoError):
        return SourceNotFound(f"{what} is gated: a token whose account accepted its terms is required")
    if isinstance(error, RepositoryNotFoundError):
        return SourceNotFound(f"{what}: repository not found (or private and the token has no access)")
    if isinstance(error, RevisionNotFoundError):
        return SourceNotFound(f"{what}: revision not found")
    if isinstance(error, LocalEntryNotFoundError):
        # hf_hub_download wraps a failed HEAD call; the cause says whether it was the network.
        cause = error.__cause__
        return _classify(cause, what) if cause is not None else SourceUnavailable(f"{what}: Hub unreachable")
    if isinstance(error, EntryNotFoundError):
        return ExtractionFailed(f"{what}: file not found")
    if isinstance(error, HfHubHTTPError):
        response = getattr(error, "response", None)
        status = getattr(response, "status_code", None)
        if isinstance(status, int):
            return error_for_status(status, what)
        return SourceUnavailable(f"{what}: the Hub did not answer usefully; try again later")
    if isinstance(error, HFValidationError):
        return ExtractionFailed(f"{what}: {error}")
    if isinstance(error, FileMetadataError):
        return ExtractionFailed(f"{what}: the endpoint does not answer like a Hugging Face Hub")
    if isinstance(error, _TRANSPORT_ERRORS):
        return SourceUnavailable(f"{what}: the Hub could not be used ({transport_reason(error)})")
    return ExtractionFailed(f"{what}: the Hub answered something extraction cannot read")


@contextmanager
def _hub_errors(what: str) -> Iterator[None]:
    try:
        yield
    except ExtractionError:
        raise
    except _HUB_ERRORS as e:
        raise _classify(e, what) from e


class HubModelFiles:
    """One revision of a Hub model repository.

    ``token=None`` means anonymous access: a token found in the environment or the local HF cache is
    deliberately not used, so pass the configured ``HF_TOKEN`` explicitly. ``endpoint=None`` means the
    library default (``HF_ENDPOINT`` or huggingface.co). The first call pins the revision to its commit.
    """

    def __init__(
        self,
        repo_id: str,
        revision: str | None = None,
        endpoint: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 30.0,
    ) -> None:
        self.repo_id = repo_id
        self.requested_revision = revision
        self.endpoint = endpoint.rstrip("/") if endpoint else None
        self.timeout = timeout
        self._token: str | bool = token or False
        self._api = HfApi(endpoint=self.endpoint, token=self._token)
        self._info: ModelInfo | None = None
        self._cache = tempfile.TemporaryDirectory(prefix="budgraph-hub-")

    def __enter__(self) -> HubModelFiles:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Remove the temporary download directory of the small files."""
        self._cache.cleanup()

    def model_info(self) -> ModelInfo:
        if self._info is None:
            with _hub_errors(f"model {self.repo_id}"):
                self._info = self._api.model_info(
                    self.repo_id, revision=self.requested_revision, files_metadata=True, timeout=self.timeout
                )
        return self._info

    @property
    def gated(self) -> bool | None:
        gated = self.model_info().gated
        return None if gated is None else bool(gated)

    @property
    def revision(self) -> str | None:
        return self.model_info().sha or self.requested_revision

    @property
    def canonical_id(self) -> str:
        """The repository's id as the Hub spells it (ids are case-insensitive)."""
        return self.model_info().id or self.repo_id

    def list_files(self) -> list[RemoteFile]:
        siblings = self.model_info().siblings or []
        return [RemoteFile(sibling.rfilename, sibling.size) for sibling in siblings]

    def read_bytes(self, path: str, max_bytes: int = MAX_SMALL_FILE_BYTES) -> bytes:
        sizes = {file.path: file.size for file in self.list_files()}
        if path not in sizes:
            raise ExtractionFailed(f"{self.repo_id}: no file {path!r} at revision {self.revision}")
        check_small_read(path, sizes[path], max_bytes)
        with _hub_errors(f"{self.repo_id}/{path}"):
            local = hf_hub_download(
                self.repo_id,
                path,
                revision=self.revision,
                endpoint=self.endpoint,
                token=self._token,
                cache_dir=self._cache.name,
                etag_timeout=self.timeout,
            )
        target = Path(local)
        check_small_read(path, target.stat().st_size, max_bytes)
        return target.read_bytes()

    def read_range(self, path: str, start: int, end: int) -> bytes:
        check_range(path, start, end)
        if end == start:
            return b""
        url = hf_hub_url(self.repo_id, path, revision=self.revision, endpoint=self.endpoint)
        headers = {"Range": f"bytes={start}-{end - 1}", "Accept-Encoding": "identity"}
        if isinstance(self._token, str):
            headers["Authorization"] = f"Bearer {self._token}"
        what = f"{self.repo_id}/{path} bytes [{start}, {end})"
        with _hub_errors(what), get_session().stream("GET", url, headers=headers, timeout=self.timeout) as r:
            if r.status_code not in (200, 206):
                r.read()
                hf_raise_for_status(r)
                raise error_for_status(r.status_code, what)
            # A server that ignores Range answers 200 with the whole file: read only up to `end`.
            skip, wanted = (0, end - start) if r.status_code == 206 else (start, end)
            data = bytearray()
            for chunk in r.iter_bytes():
                data += chunk
                if len(data) >= wanted:
                    break
        return check_range_result(path, start, end, bytes(data[skip:wanted]))
