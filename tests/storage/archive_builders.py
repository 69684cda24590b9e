"""Build good and hostile archives in tests, including bombs that stay small on disk and in memory.

A gigabyte of zeros is never materialised: a raw deflate stream of it is one deflated MiB of zeros
(a full flush makes it byte-aligned and independent of what came before) repeated 1024 times, then
an empty final block. Only the CRC-32 needs a pass over the zeros, one MiB at a time.
"""

from __future__ import annotations

import bz2
import io
import struct
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

MIB = 1024 * 1024
GIB = 1024 * MIB
_ZERO_MIB = bytes(MIB)


def _deflated_block(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH)


_DEFLATED_ZERO_MIB = _deflated_block(_ZERO_MIB)
_FINAL_BLOCK = zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)


def crc32_of_zeros(size: int, crc: int = 0) -> int:
    assert size % MIB == 0
    for _ in range(size // MIB):
        crc = zlib.crc32(_ZERO_MIB, crc)
    return crc


def deflated(prefix: bytes, zeros: int, suffix: bytes = b"") -> bytes:
    """Raw deflate of ``prefix + bytes(zeros) + suffix``, ``zeros`` a multiple of 1 MiB."""
    assert zeros % MIB == 0
    parts = [_deflated_block(prefix)] if prefix else []
    parts.append(_DEFLATED_ZERO_MIB * (zeros // MIB))
    if suffix:
        parts.append(_deflated_block(suffix))
    parts.append(_FINAL_BLOCK)
    return b"".join(parts)


def tar_gz_of_zeros(path: Path, name: str, size: int) -> None:
    """A tar.gz holding one file of ``size`` zero bytes, streamed from a few KiB per GiB."""
    header = tarfile.TarInfo(name)
    header.size = size
    header_block = header.tobuf(tarfile.GNU_FORMAT)
    end = bytes(2 * tarfile.BLOCKSIZE)  # end-of-archive marker (size is a multiple of 512)
    crc = zlib.crc32(end, crc32_of_zeros(size, zlib.crc32(header_block)))
    total = len(header_block) + size + len(end)
    gzip_header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = struct.pack("<2L", crc, total & 0xFFFFFFFF)
    path.write_bytes(gzip_header + deflated(header_block, size, end) + trailer)


def tar_bz2_of_zeros(path: Path, name: str, size: int) -> None:
    """A tar.bz2 of ``size`` zero bytes as concatenated bzip2 streams (bzip2 reads them as one)."""
    chunk = 32 * MIB
    assert size % chunk == 0
    header = tarfile.TarInfo(name)
    header.size = size
    zeros_stream = bz2.compress(bytes(chunk))
    with path.open("wb") as out:
        out.write(bz2.compress(header.tobuf(tarfile.GNU_FORMAT)))
        for _ in range(size // chunk):
            out.write(zeros_stream)
        out.write(bz2.compress(bytes(2 * tarfile.BLOCKSIZE)))


@dataclass
class RawZipEntry:
    """A zip entry written byte by byte, so its headers can say whatever a test needs."""

    name: str
    data: bytes  # as stored: already compressed for method 8
    crc: int
    file_size: int
    method: int = zipfile.ZIP_DEFLATED
    flags: int = 0
    external_attr: int = 0


def write_raw_zip(path: Path, entries: list[RawZipEntry]) -> None:
    local, central = io.BytesIO(), io.BytesIO()
    for entry in entries:
        name, offset, version = entry.name.encode(), local.tell(), 20
        sizes = (entry.crc, len(entry.data), entry.file_size)
        fields = (version, entry.flags, entry.method, 0, 0x21, *sizes, len(name), 0)
        local.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", *fields) + name + entry.data)
        unix = 3 << 8 | version
        central.write(
            struct.pack("<4s6H3L", b"PK\x01\x02", unix, version, entry.flags, entry.method, 0, 0x21, *sizes)
            + struct.pack("<5H2L", len(name), 0, 0, 0, 0, entry.external_attr, offset)
            + name
        )
    directory = central.getvalue()
    count = len(entries)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(directory), local.tell(), 0)
    path.write_bytes(local.getvalue() + directory + end)


def zip_bomb(path: Path, *, declared_size: int, real_size: int = GIB) -> None:
    """One deflated entry of ``real_size`` zeros whose headers claim ``declared_size``."""
    data = deflated(b"", real_size)
    crc = crc32_of_zeros(real_size) if declared_size == real_size else 0
    write_raw_zip(path, [RawZipEntry("weights.bin", data, crc, declared_size)])
