"""Unpack an uploaded model archive safely: all or nothing, inside the destination, within limits.

Supported: tar (plain, gzip, bzip2, xz) and zip, recognised by their content, not their name. Links,
devices, paths leaving the destination, encrypted entries, duplicates and archives that unpack to
too much (counted while streaming, whatever the headers claim) are refused with ``UnsafeArchive``
and a ``reason_code``. Blocking: call it from a worker thread (``asyncio.to_thread``) in async code.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

from budgraph.storage.archive_staging import Staging
from budgraph.storage.archive_tar import extract_tar
from budgraph.storage.archive_types import (
    ArchiveLimits,
    ExtractedFile,
    UnsafeArchive,
    UnsafeArchiveReason,
)
from budgraph.storage.archive_zip import extract_zip

__all__ = ["ArchiveLimits", "ExtractedFile", "UnsafeArchive", "UnsafeArchiveReason", "safe_extract"]

_COMPRESSED_TAR = {b"\x1f\x8b": "gz", b"BZh": "bz2", b"\xfd7zXZ\x00": "xz"}
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")  # first local file header, or the end record of an empty zip


def archive_format(archive: Path) -> str:
    """``zip``, ``tar``, ``tar.gz``, ``tar.bz2`` or ``tar.xz`` from the first bytes of the file.

    A compressed stream is taken as a tar here; extraction refuses it if it does not hold one.
    """
    with archive.open("rb") as file:
        head = file.read(tarfile.BLOCKSIZE)
    if head.startswith(_ZIP):
        return "zip"
    for magic, compression in _COMPRESSED_TAR.items():
        if head.startswith(magic):
            return f"tar.{compression}"
    try:
        tarfile.TarInfo.frombuf(head, tarfile.ENCODING, "surrogateescape")
    except tarfile.TarError:
        raise UnsafeArchive(UnsafeArchiveReason.NOT_AN_ARCHIVE, "not a tar or zip archive") from None
    return "tar"


def safe_extract(
    archive: Path, destination: Path, limits: ArchiveLimits = ArchiveLimits()
) -> list[ExtractedFile]:
    """Unpack ``archive`` into ``destination`` and return its regular files, sorted by path.

    ``destination`` must not exist or be an empty folder; the archive is unpacked into a hidden
    folder beside it and renamed into place once every entry has passed, so on any failure nothing
    appears there. When every entry sits under one top folder (``my-model/config.json``), that
    folder is dropped (``config.json``). ``__MACOSX/`` entries are skipped. Permissions, owners and
    times in the archive are ignored: files are written 0644 (less the umask), never executable.
    """
    kind = archive_format(archive)
    with Staging(destination, limits) as staging:
        if kind == "zip":
            extract_zip(archive, staging)
        else:
            _, _, compression = kind.partition(".")
            extract_tar(archive, compression, staging)
        return staging.finish()
