"""Tar archives (plain, gzip, bzip2, xz), read as one forward stream and decompressed in bounded chunks.

tarfile's own "r|gz" modes decompress each compressed block whole, and a few KiB of bzip2 can expand
to gigabytes, so decompression is done here (``gzip``/``bz2``/``lzma`` file objects read at most
what they are asked for) and tarfile only sees an uncompressed stream.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import tarfile
from pathlib import Path
from typing import BinaryIO, cast

from budgraph.storage.archive_staging import ByteSource, GuardedReader, Staging, entry_path
from budgraph.storage.archive_types import UnsafeArchive
from budgraph.storage.archive_types import UnsafeArchiveReason as Reason

COMPRESSIONS = ("", "gz", "bz2", "xz")


class CountingReader:
    """Reads the archive file and counts the (compressed) bytes consumed so far."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self.position = 0

    def read(self, size: int = -1, /) -> bytes:
        chunk = self._source.read(size)
        self.position += len(chunk)
        return chunk


def _decompressed(raw: CountingReader, compression: str) -> ByteSource:
    file = cast(BinaryIO, raw)  # these only call read(size)
    if compression == "gz":
        return gzip.GzipFile(fileobj=file, mode="rb")
    if compression == "bz2":
        return bz2.BZ2File(file)
    if compression == "xz":
        return lzma.LZMAFile(file)
    return raw


def _open_tar(stream: GuardedReader, compression: str) -> tarfile.TarFile:
    try:
        return tarfile.open(fileobj=cast(BinaryIO, stream), mode="r|")
    except tarfile.TarError as error:
        what = f"{compression} data that is not a tar archive" if compression else "not a tar archive"
        raise UnsafeArchive(Reason.NOT_AN_ARCHIVE, f"{what}: {error}") from None


def extract_tar(archive: Path, compression: str, staging: Staging) -> None:
    with archive.open("rb") as file:
        raw = CountingReader(file)
        with _open_tar(GuardedReader(_decompressed(raw, compression)), compression) as tar:
            while True:
                try:
                    member = tar.next()
                except tarfile.TarError as error:
                    raise UnsafeArchive(Reason.NOT_AN_ARCHIVE, f"corrupt tar archive: {error}") from None
                if member is None:
                    return
                _extract_member(tar, member, raw, staging)


def _extract_member(
    tar: tarfile.TarFile, member: tarfile.TarInfo, raw: CountingReader, staging: Staging
) -> None:
    staging.count_entries()
    path = entry_path(member.name)
    if member.issym() or member.islnk():
        raise UnsafeArchive(Reason.LINK, f"entry {member.name!r} is a link to {member.linkname!r}")
    if member.issparse() or not (member.isfile() or member.isdir()):
        raise UnsafeArchive(Reason.SPECIAL_FILE, f"entry {member.name!r} is not a regular file or folder")
    if path is None:
        return
    staging.reserve(path, folder=member.isdir())
    if member.isdir():
        staging.make_folder(path)
        return
    staging.check_declared(path, member.size)
    source = tar.extractfile(member)
    assert source is not None  # a regular file in a stream always has a reader
    start = raw.position
    staging.write_file(
        path,
        GuardedReader(source),
        declared_size=member.size,
        entry_compressed=lambda: raw.position - start,
        archive_compressed=lambda: raw.position,
    )
