"""Zip archives: every entry of the central directory is checked before anything is written.

The sizes a zip declares are used only to refuse early. Each entry is then opened as if it could be
larger than any limit, so the bytes it really unpacks to are counted (an entry that grows past its
declared size is refused as soon as it does). Only stored and deflated entries are read: zipfile
decompresses bzip2 and LZMA entries without an output bound.
"""

from __future__ import annotations

import copy
import stat
import struct
import zipfile
from pathlib import Path

from budgraph.storage.archive_staging import GuardedReader, Staging, entry_path
from budgraph.storage.archive_types import ArchiveLimits, UnsafeArchive
from budgraph.storage.archive_types import UnsafeArchiveReason as Reason

_EOCD = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_ENCRYPTED_FLAGS = 0x01 | 0x40  # traditional PKWARE or strong encryption
_READ_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_MS_DOS = 0  # zips made there use "\" as a separator; no file name can contain one
# A directory entry is 46 bytes plus name and extra fields: more than this per allowed entry is hostile.
_MAX_DIRECTORY_BYTES_PER_ENTRY = 4096


def _directory_size(archive: Path) -> tuple[int, int]:
    """Entry count and byte size of the central directory, from the end record (zip64 too)."""
    with archive.open("rb") as file:
        size = file.seek(0, 2)
        file.seek(max(0, size - (_EOCD.size + 0xFFFF + _ZIP64_LOCATOR.size)))
        tail = file.read()
        end = tail.rfind(b"PK\x05\x06")
        if end < 0 or len(tail) - end < _EOCD.size:
            raise UnsafeArchive(Reason.NOT_AN_ARCHIVE, "zip data without an end of central directory")
        entries, directory_bytes = _EOCD.unpack_from(tail, end)[4:6]
        locator = end - _ZIP64_LOCATOR.size
        if locator >= 0 and tail[locator : locator + 4] == b"PK\x06\x07":
            file.seek(_ZIP64_LOCATOR.unpack_from(tail, locator)[2])
            record = file.read(_ZIP64_EOCD.size)
            if len(record) == _ZIP64_EOCD.size and record[:4] == b"PK\x06\x06":
                entries, directory_bytes = _ZIP64_EOCD.unpack(record)[7:9]
    return entries, directory_bytes


def _check_directory(archive: Path, limits: ArchiveLimits) -> None:
    """Refuse a zip whose central directory is too big to parse, before zipfile parses it."""
    entries, directory_bytes = _directory_size(archive)
    if entries > limits.max_files or directory_bytes > limits.max_files * _MAX_DIRECTORY_BYTES_PER_ENTRY:
        raise UnsafeArchive(Reason.TOO_MANY_FILES, f"more than {limits.max_files} entries")


def _is_folder(info: zipfile.ZipInfo) -> bool:
    """Classify an entry; ``UnsafeArchive`` for links, special files, encryption, unreadable methods."""
    mode = info.external_attr >> 16  # the Unix mode, where the zip was made on Unix
    if stat.S_ISLNK(mode):
        raise UnsafeArchive(Reason.LINK, f"entry {info.filename!r} is a symbolic link")
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise UnsafeArchive(Reason.SPECIAL_FILE, f"entry {info.filename!r} is not a regular file or folder")
    if info.flag_bits & _ENCRYPTED_FLAGS:
        raise UnsafeArchive(Reason.ENCRYPTED, f"entry {info.filename!r} is encrypted")
    if info.is_dir() or stat.S_ISDIR(mode):
        return True
    if info.compress_type not in _READ_METHODS:
        raise UnsafeArchive(
            Reason.NOT_AN_ARCHIVE, f"entry {info.filename!r} uses compression method {info.compress_type}"
        )
    return False


def extract_zip(archive: Path, staging: Staging) -> None:
    _check_directory(archive, staging.limits)
    archive_size = archive.stat().st_size
    try:
        zip_file = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as error:
        raise UnsafeArchive(Reason.NOT_AN_ARCHIVE, f"corrupt zip archive: {error}") from None
    with zip_file:
        infos = zip_file.infolist()
        staging.count_entries(len(infos))
        files: list[tuple[str, zipfile.ZipInfo]] = []
        declared_total = 0
        for info in infos:
            path = entry_path(info.filename, backslash_is_separator=info.create_system == _MS_DOS)
            folder = _is_folder(info)
            if path is None:
                continue
            staging.reserve(path, folder=folder)
            if folder:
                staging.make_folder(path)
                continue
            staging.check_declared(path, info.file_size, info.compress_size)
            declared_total += info.file_size
            files.append((path, info))
        if declared_total > staging.limits.max_total_bytes:
            raise UnsafeArchive(
                Reason.TOTAL_TOO_LARGE,
                f"the files add up to more than {staging.limits.max_total_bytes} bytes",
            )
        for path, info in files:
            _extract_entry(zip_file, path, info, archive_size, staging)


def _extract_entry(
    zip_file: zipfile.ZipFile, path: str, info: zipfile.ZipInfo, archive_size: int, staging: Staging
) -> None:
    unbounded = copy.copy(info)
    unbounded.file_size = 1 << 62  # zipfile must not cut the stream where a lying header says
    try:
        entry = zip_file.open(unbounded)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as error:
        raise UnsafeArchive(Reason.NOT_AN_ARCHIVE, f"entry {info.filename!r}: {error}") from None
    with entry:
        staging.write_file(
            path,
            GuardedReader(entry),
            declared_size=info.file_size,
            entry_compressed=lambda: info.compress_size,
            archive_compressed=lambda: archive_size,
        )
