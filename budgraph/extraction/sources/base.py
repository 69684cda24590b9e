"""The files of one model revision, wherever they live, as extraction sees them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from budgraph.extraction.errors import ExtractionError, ExtractionFailed, FileTooLarge, SourceUnavailable

# Files read whole are small metadata (configs, the card, the index); anything bigger is refused.
MAX_SMALL_FILE_BYTES = 16 * 1024 * 1024
# A safetensors header of even a 400B-parameter shard is well under this.
MAX_RANGE_BYTES = 64 * 1024 * 1024

WEIGHT_SUFFIXES = (
    ".safetensors",
    ".bin",
    ".pt",
    ".pth",
    ".ckpt",
    ".gguf",
    ".ggml",
    ".h5",
    ".msgpack",
    ".onnx",
    ".onnx_data",
    ".npz",
    ".pkl",
    ".tflite",
    ".mlmodel",
    ".ot",
    ".nemo",
)


def is_weight_file(path: str) -> bool:
    """True for files holding weights (never downloaded whole; safetensors are read by header only)."""
    return path.lower().endswith(WEIGHT_SUFFIXES)


@dataclass(frozen=True)
class RemoteFile:
    path: str
    size: int | None


class ModelFiles(Protocol):
    """Read-only access to the files of one model revision.

    Implementations raise ``SourceUnavailable`` for transient failures and ``ExtractionFailed`` for
    permanent ones; ``read_bytes`` refuses weight files and files over ``max_bytes``.
    """

    @property
    def gated(self) -> bool | None:
        """Whether the source requires accepting terms before download (``None``: not applicable)."""
        ...

    @property
    def revision(self) -> str | None:
        """The immutable revision (commit) the files were read at, when the source has one."""
        ...

    def list_files(self) -> list[RemoteFile]: ...

    def read_bytes(self, path: str, max_bytes: int = MAX_SMALL_FILE_BYTES) -> bytes: ...

    def read_range(self, path: str, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of ``path``; exactly ``end - start`` of them."""
        ...


def check_small_read(path: str, size: int | None, max_bytes: int) -> None:
    if is_weight_file(path):
        raise ExtractionFailed(f"refusing to read weight file {path!r} whole")
    if size is not None and size > max_bytes:
        raise FileTooLarge(f"{path} is {size} bytes, over the {max_bytes}-byte cap")


def check_range(path: str, start: int, end: int) -> None:
    if start < 0 or end < start:
        raise ValueError(f"invalid byte range [{start}, {end}) for {path}")
    if end - start > MAX_RANGE_BYTES:
        raise ExtractionFailed(f"refusing to read {end - start} bytes of {path} (cap {MAX_RANGE_BYTES})")


def check_range_result(path: str, start: int, end: int, data: bytes) -> bytes:
    if len(data) != end - start:
        raise ExtractionFailed(f"{path} is truncated: wanted bytes [{start}, {end}), got {len(data)} bytes")
    return data


def error_for_status(status: int, what: str) -> ExtractionError:
    """The error for an HTTP failure status: 429 and 5xx are transient, everything else is permanent."""
    if status == 429 or status >= 500:
        return SourceUnavailable(f"{what}: HTTP {status}, try again later")
    if status in (401, 403):
        return ExtractionFailed(f"{what}: access denied (HTTP {status}); a token with access is required")
    if status == 404:
        return ExtractionFailed(f"{what}: not found (HTTP 404)")
    return ExtractionFailed(f"{what}: HTTP {status}")
