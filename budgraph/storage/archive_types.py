"""What ``safe_extract`` takes and returns: limits, extracted files, and why an archive was refused."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from budgraph.storage.errors import StorageError

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB


class UnsafeArchiveReason(StrEnum):
    PATH_TRAVERSAL = "PATH_TRAVERSAL"  # "..", absolute, drive letter, backslash, NUL: unsafe or invalid path
    LINK = "LINK"  # symbolic or hard link
    SPECIAL_FILE = "SPECIAL_FILE"  # device, FIFO, socket, sparse file, unknown entry type
    TOO_MANY_FILES = "TOO_MANY_FILES"
    FILE_TOO_LARGE = "FILE_TOO_LARGE"  # also: an entry that decompresses past its declared size
    TOTAL_TOO_LARGE = "TOTAL_TOO_LARGE"
    COMPRESSION_RATIO = "COMPRESSION_RATIO"
    NOT_AN_ARCHIVE = "NOT_AN_ARCHIVE"  # unknown format, corrupt or truncated data, unsupported method
    DUPLICATE_PATH = "DUPLICATE_PATH"  # the same path twice, or a path that is both file and folder
    ENCRYPTED = "ENCRYPTED"


class UnsafeArchive(StorageError):
    """The archive was refused; nothing was extracted."""

    def __init__(self, reason_code: UnsafeArchiveReason, message: str) -> None:
        super().__init__(f"{reason_code}: {message}")
        self.reason_code = reason_code
        self.message = message


@dataclass(frozen=True)
class ArchiveLimits:
    """Bounds on what an archive may unpack to; every size counts decompressed bytes as they stream.

    The defaults fit uploaded model repositories: no single file larger than 50 GiB (the largest
    file the Hugging Face Hub accepts), 256 GiB in all, at most 10,000 entries (files and folders).
    ``max_ratio`` refuses any entry bigger than ``ratio_min_bytes`` (and the archive as a whole) that
    unpacks to more than 200 times its compressed size: real weights compress about 1.1:1 and JSON
    or text about 5:1, while a run of zeros (the stuff of zip bombs) deflates about 1000:1.
    """

    max_files: int = 10_000
    max_file_bytes: int = 50 * GIB
    max_total_bytes: int = 256 * GIB
    max_ratio: float = 200.0
    ratio_min_bytes: int = 1 * MIB

    def __post_init__(self) -> None:
        for name in ("max_files", "max_file_bytes", "max_total_bytes", "max_ratio", "ratio_min_bytes"):
            if getattr(self, name) <= 0:
                raise ValueError(f"ArchiveLimits.{name} must be positive")


@dataclass(frozen=True)
class ExtractedFile:
    """A regular file written by ``safe_extract``: its relative POSIX path, size and hex SHA-256."""

    path: str
    size: int
    sha256: str
