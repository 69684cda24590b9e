"""A hidden folder beside the destination that receives an archive's entries while they are checked.

Only when every entry has passed is it renamed to the destination (all or nothing); on any failure it
is removed. Sizes and ratios are counted on the bytes actually read, before each chunk is written.
"""

from __future__ import annotations

import hashlib
import lzma
import os
import re
import shutil
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Protocol

from budgraph.storage.archive_types import ArchiveLimits, ExtractedFile, UnsafeArchive
from budgraph.storage.archive_types import UnsafeArchiveReason as Reason
from budgraph.storage.errors import InvalidObjectPath
from budgraph.storage.keys import validate_object_path

CHUNK_BYTES = 1024 * 1024
_DRIVE = re.compile(r"[A-Za-z]:")
# Finder's zip adds resource forks under this folder: metadata, never part of a model.
_SKIPPED_TOP_FOLDERS = frozenset({"__MACOSX"})
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class ByteSource(Protocol):
    def read(self, size: int, /) -> bytes: ...


class GuardedReader:
    """Reads ``source``; a decompression or format error becomes ``UnsafeArchive(NOT_AN_ARCHIVE)``."""

    def __init__(self, source: ByteSource) -> None:
        self._source = source

    def read(self, size: int = -1, /) -> bytes:
        try:
            return self._source.read(size)
        except (OSError, EOFError, zlib.error, lzma.LZMAError, zipfile.BadZipFile, tarfile.TarError) as error:
            raise UnsafeArchive(Reason.NOT_AN_ARCHIVE, f"corrupt or truncated archive: {error}") from error


def entry_path(raw: str, *, backslash_is_separator: bool = False) -> str | None:
    """The normalised relative path of an entry; ``None`` for one to skip (the root, ``__MACOSX/``)."""
    name = raw.replace("\\", "/") if backslash_is_separator else raw
    if "\x00" in name:
        raise UnsafeArchive(Reason.PATH_TRAVERSAL, f"entry {raw!r} has a NUL in its path")
    if name.startswith("/") or _DRIVE.match(name):
        raise UnsafeArchive(Reason.PATH_TRAVERSAL, f"entry {raw!r} has an absolute path")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchive(Reason.PATH_TRAVERSAL, f"entry {raw!r} points outside the archive")
    if not parts or parts[0] in _SKIPPED_TOP_FOLDERS:
        return None
    path = "/".join(parts)
    try:
        return validate_object_path(path)
    except InvalidObjectPath as error:
        raise UnsafeArchive(Reason.PATH_TRAVERSAL, f"entry {raw!r}: {error}") from None


class Staging:
    """Checks and writes the entries of one archive; use as a context manager, call ``finish()`` last."""

    def __init__(self, destination: Path, limits: ArchiveLimits) -> None:
        if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
            raise FileExistsError(f"{destination} exists and is not an empty folder")
        destination.parent.mkdir(parents=True, exist_ok=True)
        self.destination = destination
        self.limits = limits
        self.root = Path(
            tempfile.mkdtemp(prefix=f".{destination.name}.", suffix=".partial", dir=destination.parent)
        )
        self.root.chmod(0o755)  # mkdtemp's 0700 would become the destination's mode
        self._entries = 0
        self._total_bytes = 0
        self._is_folder: dict[str, bool] = {}  # every path seen, and every folder they imply
        self._files: list[ExtractedFile] = []

    def __enter__(self) -> Staging:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def count_entries(self, count: int = 1) -> None:
        self._entries += count
        if self._entries > self.limits.max_files:
            raise UnsafeArchive(Reason.TOO_MANY_FILES, f"more than {self.limits.max_files} entries")

    def reserve(self, path: str, *, folder: bool) -> None:
        """Claim ``path``; ``DUPLICATE_PATH`` if it was claimed before or clashes with a file."""
        parts = path.split("/")
        for depth in range(1, len(parts)):
            parent = "/".join(parts[:depth])
            if self._is_folder.setdefault(parent, True) is False:
                raise UnsafeArchive(Reason.DUPLICATE_PATH, f"{path!r} is inside {parent!r}, which is a file")
        seen = self._is_folder.get(path)
        if seen is not None and not (seen and folder):
            raise UnsafeArchive(Reason.DUPLICATE_PATH, f"{path!r} occurs more than once")
        self._is_folder[path] = folder

    def make_folder(self, path: str) -> None:
        (self.root / path).mkdir(parents=True, exist_ok=True)

    def write_file(
        self,
        path: str,
        source: ByteSource,
        *,
        declared_size: int,
        entry_compressed: Callable[[], int],
        archive_compressed: Callable[[], int],
    ) -> None:
        """Copy ``source`` to ``path`` (reserved before), checking every limit before each chunk lands."""
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        digest, written = hashlib.sha256(), 0
        with os.fdopen(os.open(target, _FILE_FLAGS, 0o644), "wb") as out:
            while chunk := source.read(CHUNK_BYTES):
                written += len(chunk)
                self._check(path, written, declared_size, entry_compressed(), archive_compressed())
                out.write(chunk)
                digest.update(chunk)
        if written != declared_size:
            raise UnsafeArchive(Reason.NOT_AN_ARCHIVE, f"{path!r} holds {written} bytes, not {declared_size}")
        self._total_bytes += written
        self._files.append(ExtractedFile(path, written, digest.hexdigest()))

    def check_declared(self, path: str, size: int, compressed_size: int | None = None) -> None:
        """Refuse early on sizes an archive declares (the streamed bytes are still counted later)."""
        self._check(path, size, size, compressed_size if compressed_size is not None else size, 0)

    def _check(
        self, path: str, written: int, declared: int, entry_compressed: int, archive_compressed: int
    ) -> None:
        limits, total = self.limits, self._total_bytes + written
        if written > limits.max_file_bytes:
            raise UnsafeArchive(
                Reason.FILE_TOO_LARGE, f"{path!r} is larger than {limits.max_file_bytes} bytes"
            )
        if written > declared:
            raise UnsafeArchive(
                Reason.FILE_TOO_LARGE, f"{path!r} unpacks to more than its declared {declared} bytes"
            )
        if total > limits.max_total_bytes:
            raise UnsafeArchive(
                Reason.TOTAL_TOO_LARGE, f"the files add up to more than {limits.max_total_bytes} bytes"
            )
        if written > limits.ratio_min_bytes and written > limits.max_ratio * max(entry_compressed, 1):
            raise UnsafeArchive(
                Reason.COMPRESSION_RATIO,
                f"{path!r} unpacks to more than {limits.max_ratio:g} times its compressed size",
            )
        if (
            archive_compressed
            and total > limits.ratio_min_bytes
            and total > limits.max_ratio * archive_compressed
        ):
            raise UnsafeArchive(
                Reason.COMPRESSION_RATIO,
                f"the archive unpacks to more than {limits.max_ratio:g} times its size",
            )

    def finish(self) -> list[ExtractedFile]:
        """Move the checked tree into the destination, without its single top folder if it has one."""
        top = self._single_top_folder()
        os.replace(self.root / top if top else self.root, self.destination)
        files = self._files
        if top:
            files = [
                ExtractedFile(file.path.removeprefix(f"{top}/"), file.size, file.sha256) for file in files
            ]
        return sorted(files, key=lambda file: file.path)

    def _single_top_folder(self) -> str | None:
        tops = {path.split("/", 1)[0] for path in self._is_folder}
        if len(tops) != 1 or not self._files:
            return None
        top = tops.pop()
        return top if self._is_folder[top] else None
