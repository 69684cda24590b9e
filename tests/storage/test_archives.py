"""safe_extract: good archives unpack to the right files; hostile ones are refused and leave nothing."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import os
import stat
import struct
import tarfile
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest

from budgraph.storage import ArchiveLimits, ExtractedFile, UnsafeArchive, UnsafeArchiveReason, safe_extract
from tests.storage.archive_builders import (
    GIB,
    MIB,
    RawZipEntry,
    deflated,
    tar_bz2_of_zeros,
    tar_gz_of_zeros,
    write_raw_zip,
    zip_bomb,
)
from tests.storage.conftest import names_in

Reason = UnsafeArchiveReason
MODEL = {
    "my-model/config.json": b'{"architectures": ["LlamaForCausalLM"]}',
    "my-model/tokenizer/tokenizer.json": b'{"version": "1.0"}',
    "my-model/model.safetensors": os.urandom(300_000),
}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def expected(files: dict[str, bytes], strip: str = "") -> list[ExtractedFile]:
    return sorted(
        (ExtractedFile(path.removeprefix(strip), len(data), sha(data)) for path, data in files.items()),
        key=lambda file: file.path,
    )


def regular(name: str, data: bytes = b"") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def special(name: str, kind: bytes, linkname: str = "") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    return info, b""


def write_tar(
    path: Path, members: list[tuple[tarfile.TarInfo, bytes]], mode: str = "w", **options: str
) -> Path:
    with tarfile.open(path, mode, **options) as tar:  # type: ignore[call-overload]
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return path


def write_zip(path: Path, members: list[tuple[str | zipfile.ZipInfo, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return path


def zip_info(name: str, *, mode: int = 0, flags: int = 0, create_system: int = 3) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr, info.flag_bits, info.create_system = mode << 16, flags, create_system
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


@pytest.fixture
def destination(tmp_path: Path) -> Path:
    (tmp_path / "out").mkdir()
    return tmp_path / "out" / "model"


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    (tmp_path / "in").mkdir()
    return tmp_path / "in"


def refused(archive: Path, destination: Path, limits: ArchiveLimits = ArchiveLimits()) -> UnsafeArchive:
    """The refusal of ``archive``, after checking that nothing is left in or beside the destination."""
    with pytest.raises(UnsafeArchive) as raised:
        safe_extract(archive, destination, limits)
    assert not destination.exists()
    assert names_in(destination.parent) == []  # no staging folder left behind either
    return raised.value


# Good archives --------------------------------------------------------------------------------------


def test_a_tar_gz_unpacks_without_its_top_folder(inbox: Path, destination: Path) -> None:
    archive = write_tar(inbox / "upload", [regular(name, data) for name, data in MODEL.items()], "w:gz")

    files = safe_extract(archive, destination)

    assert files == expected(MODEL, strip="my-model/")
    for file in files:
        assert (destination / file.path).read_bytes() == MODEL[f"my-model/{file.path}"]
    assert names_in(destination) == ["config.json", "model.safetensors", "tokenizer"]
    assert names_in(destination.parent) == ["model"]


def test_a_zip_unpacks_without_its_top_folder_and_finder_metadata(inbox: Path, destination: Path) -> None:
    setuid = zip_info("my-model/run.sh", mode=stat.S_IFREG | stat.S_ISUID | 0o755)
    members: list[tuple[str | zipfile.ZipInfo, bytes]] = [
        ("my-model/", b""),
        *MODEL.items(),
        (setuid, b"#!/bin/sh"),
    ]
    members += [("__MACOSX/my-model/._config.json", b"\x00\x05\x16\x07")]
    archive = write_zip(inbox / "upload", members)

    files = safe_extract(archive, destination)

    assert files == expected({**MODEL, "my-model/run.sh": b"#!/bin/sh"}, strip="my-model/")
    assert (destination / "tokenizer" / "tokenizer.json").read_bytes() == MODEL[
        "my-model/tokenizer/tokenizer.json"
    ]
    for name in ("config.json", "run.sh"):  # the archive's modes are ignored: no setuid, no exec
        assert stat.S_IMODE((destination / name).stat().st_mode) & (stat.S_ISUID | 0o111) == 0


@pytest.mark.parametrize("mode", ["w", "w:bz2", "w:xz"])
def test_other_tar_compressions_are_recognised_by_content(inbox: Path, destination: Path, mode: str) -> None:
    files = {"config.json": b"{}", "weights/model.bin": os.urandom(5000)}
    archive = write_tar(
        inbox / "misleading-name.zip", [regular(name, data) for name, data in files.items()], mode
    )

    assert safe_extract(archive, destination) == expected(files)


def test_no_folder_is_stripped_when_entries_do_not_share_one(inbox: Path, destination: Path) -> None:
    files = {"my-model/config.json": b"{}", "README.md": b"# model"}
    archive = write_zip(inbox / "upload.zip", list(files.items()))

    assert safe_extract(archive, destination) == expected(files)


def test_a_single_top_level_file_stays(inbox: Path, destination: Path) -> None:
    archive = write_tar(inbox / "one.tar", [regular("./model.gguf", b"GGUF")])

    assert safe_extract(archive, destination) == [ExtractedFile("model.gguf", 4, sha(b"GGUF"))]


def test_empty_folders_are_kept_and_an_empty_destination_may_exist(inbox: Path, destination: Path) -> None:
    archive = write_tar(inbox / "t.tar", [special("m/empty", tarfile.DIRTYPE), regular("m/a.txt", b"a")])
    destination.mkdir()

    assert safe_extract(archive, destination) == [ExtractedFile("a.txt", 1, sha(b"a"))]
    assert names_in(destination) == ["a.txt", "empty"]


def test_a_destination_with_content_is_refused(inbox: Path, destination: Path) -> None:
    archive = write_tar(inbox / "t.tar", [regular("a.txt", b"a")])
    destination.mkdir()
    (destination / "kept").write_bytes(b"kept")

    with pytest.raises(FileExistsError):
        safe_extract(archive, destination)
    assert names_in(destination) == ["kept"]


# Hostile tars --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["../evil", "/etc/evil", "model/../../evil", "C:/evil", "C:\\evil", "..\\evil", "model/a\\..\\..\\b"],
)
def test_tar_paths_leaving_the_destination(inbox: Path, destination: Path, name: str) -> None:
    archive = write_tar(inbox / "t.tar", [regular("model/ok.txt", b"ok"), regular(name, b"evil")])

    assert refused(archive, destination).reason_code == Reason.PATH_TRAVERSAL


def test_a_pax_header_path_leaving_the_destination(inbox: Path, destination: Path) -> None:
    info, data = regular("innocent.txt", b"evil")
    info.pax_headers = {"path": "../../evil"}
    archive = write_tar(inbox / "t.tar", [(info, data)], format=tarfile.PAX_FORMAT)  # type: ignore[arg-type]

    assert refused(archive, destination).reason_code == Reason.PATH_TRAVERSAL


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        (special("model/link", tarfile.SYMTYPE, "/etc/passwd"), Reason.LINK),
        (special("model/hard", tarfile.LNKTYPE, "model/ok.txt"), Reason.LINK),
        (special("model/tty", tarfile.CHRTYPE), Reason.SPECIAL_FILE),
        (special("model/disk", tarfile.BLKTYPE), Reason.SPECIAL_FILE),
        (special("model/pipe", tarfile.FIFOTYPE), Reason.SPECIAL_FILE),
    ],
)
def test_tar_links_and_special_files(
    inbox: Path, destination: Path, member: tuple[tarfile.TarInfo, bytes], reason: Reason
) -> None:
    archive = write_tar(inbox / "t.tar.gz", [regular("model/ok.txt", b"ok"), member], "w:gz")

    assert refused(archive, destination).reason_code == reason


def test_too_many_tar_entries(inbox: Path, destination: Path) -> None:
    archive = write_tar(inbox / "t.tar", [regular(f"f{i}.txt", b"x") for i in range(4)])

    error = refused(archive, destination, ArchiveLimits(max_files=3))

    assert (error.reason_code, error.message) == (Reason.TOO_MANY_FILES, "more than 3 entries")


@pytest.mark.parametrize(
    "names",
    [["model/a.txt", "model/a.txt"], ["model/a", "model/a/b"], ["model/a/b", "model/a"], ["a", "./a"]],
)
def test_duplicate_tar_paths(inbox: Path, destination: Path, names: list[str]) -> None:
    archive = write_tar(inbox / "t.tar", [regular(name, b"x") for name in names])

    assert refused(archive, destination).reason_code == Reason.DUPLICATE_PATH


def test_a_tar_file_over_the_file_limit(inbox: Path, destination: Path) -> None:
    archive = write_tar(inbox / "t.tar", [regular("small", b"x"), regular("big", bytes(2 * MIB))])

    error = refused(archive, destination, ArchiveLimits(max_file_bytes=MIB))

    assert error.reason_code == Reason.FILE_TOO_LARGE


def test_tar_files_over_the_total_limit(inbox: Path, destination: Path) -> None:
    archive = write_tar(inbox / "t.tar", [regular(f"f{i}", os.urandom(MIB)) for i in range(3)])

    error = refused(archive, destination, ArchiveLimits(max_total_bytes=2 * MIB + 100))

    assert error.reason_code == Reason.TOTAL_TOO_LARGE


def test_a_tar_gz_bomb_is_stopped_by_the_ratio(inbox: Path, destination: Path) -> None:
    archive = inbox / "bomb.tar.gz"
    tar_gz_of_zeros(archive, "model/weights.bin", GIB)  # 1 GiB of zeros in about 1 MiB
    assert archive.stat().st_size < 2 * MIB

    error = refused(archive, destination)

    assert error.reason_code == Reason.COMPRESSION_RATIO


def test_a_tar_gz_bomb_without_ratio_limit_is_refused_by_its_size(inbox: Path, destination: Path) -> None:
    archive = inbox / "bomb.tar.gz"
    tar_gz_of_zeros(archive, "weights.bin", GIB)
    limits = ArchiveLimits(max_ratio=1e9, max_total_bytes=64 * MIB)

    error = refused(archive, destination, limits)

    assert error.reason_code == Reason.TOTAL_TOO_LARGE


def test_a_tar_bz2_bomb_is_decompressed_in_bounded_chunks(inbox: Path, destination: Path) -> None:
    archive = inbox / "bomb.tar.bz2"
    tar_bz2_of_zeros(archive, "weights.bin", 8 * 32 * MIB)  # 256 MiB in a few hundred bytes

    tracemalloc.start()
    try:
        error = refused(archive, destination)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert error.reason_code == Reason.COMPRESSION_RATIO
    assert peak < 16 * MIB  # a 32 MiB bzip2 stream is never decompressed whole


def test_highly_compressed_data_within_the_limits_streams_in_bounded_memory(
    inbox: Path, destination: Path
) -> None:
    archive = inbox / "zeros.tar.bz2"
    tar_bz2_of_zeros(archive, "weights.bin", 2 * 32 * MIB)

    tracemalloc.start()
    try:
        files = safe_extract(archive, destination, ArchiveLimits(max_ratio=1e9))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    zeros_sha = hashlib.sha256()
    for _ in range(64):
        zeros_sha.update(bytes(MIB))
    assert files == [ExtractedFile("weights.bin", 64 * MIB, zeros_sha.hexdigest())]
    assert peak < 16 * MIB


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not a tar or zip archive"),
        (os.urandom(4096), "not a tar or zip archive"),
        (b"\x28\xb5\x2f\xfd" + bytes(100), "not a tar or zip archive"),  # zstd is not supported
        (gzip.compress(b"just a gzip of text" * 100), "gz data that is not a tar archive"),
        (bz2.compress(b"just bzip2"), "bz2 data that is not a tar archive"),
        (lzma.compress(b"just xz"), "xz data that is not a tar archive"),
        (b"PK\x03\x04" + bytes(100), "zip data without an end of central directory"),
    ],
)
def test_not_an_archive(inbox: Path, destination: Path, content: bytes, message: str) -> None:
    (inbox / "upload").write_bytes(content)

    error = refused(inbox / "upload", destination)

    assert error.reason_code == Reason.NOT_AN_ARCHIVE
    assert message in error.message


@pytest.mark.parametrize("mode", ["w", "w:gz"])
def test_a_truncated_tar(inbox: Path, destination: Path, mode: str) -> None:
    archive = write_tar(
        inbox / "t.tar", [regular("a.bin", os.urandom(200_000)), regular("b.bin", b"b")], mode
    )
    archive.write_bytes(archive.read_bytes()[:100_000])

    assert refused(archive, destination).reason_code == Reason.NOT_AN_ARCHIVE


# Hostile zips -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "create_system"),
    [
        ("../evil", 3),
        ("/etc/evil", 3),
        ("model/../../evil", 3),
        ("..\\evil", 3),
        ("..\\evil", 0),
        ("C:\\evil", 0),
    ],
)
def test_zip_paths_leaving_the_destination(
    inbox: Path, destination: Path, name: str, create_system: int
) -> None:
    archive = write_zip(
        inbox / "z.zip", [("ok.txt", b"ok"), (zip_info(name, create_system=create_system), b"x")]
    )

    assert refused(archive, destination).reason_code == Reason.PATH_TRAVERSAL


def test_backslashes_of_a_windows_zip_are_separators(inbox: Path, destination: Path) -> None:
    archive = write_zip(inbox / "z.zip", [(zip_info("model\\sub\\a.txt", create_system=0), b"a")])

    assert safe_extract(archive, destination) == [ExtractedFile("sub/a.txt", 1, sha(b"a"))]


@pytest.mark.parametrize(
    ("info", "reason"),
    [
        (zip_info("model/link", mode=stat.S_IFLNK | 0o777), Reason.LINK),
        (zip_info("model/pipe", mode=stat.S_IFIFO | 0o644), Reason.SPECIAL_FILE),
    ],
)
def test_zip_links_and_special_files(
    inbox: Path, destination: Path, info: zipfile.ZipInfo, reason: Reason
) -> None:
    archive = write_zip(inbox / "z.zip", [("model/ok.txt", b"ok"), (info, b"/etc/passwd")])

    assert refused(archive, destination).reason_code == reason


def test_an_encrypted_zip_entry(inbox: Path, destination: Path) -> None:
    ciphertext = os.urandom(40)  # what ZipCrypto leaves: 12 header bytes and the data, unreadable
    write_raw_zip(
        inbox / "z.zip", [RawZipEntry("secret.bin", ciphertext, 0, 28, zipfile.ZIP_STORED, flags=0x1)]
    )

    error = refused(inbox / "z.zip", destination)

    assert (error.reason_code, error.message) == (Reason.ENCRYPTED, "entry 'secret.bin' is encrypted")


def test_too_many_zip_entries(inbox: Path, destination: Path) -> None:
    archive = write_zip(inbox / "z.zip", [(f"f{i}", b"") for i in range(4)])

    assert refused(archive, destination, ArchiveLimits(max_files=3)).reason_code == Reason.TOO_MANY_FILES


def test_the_entry_count_is_read_from_the_end_record_before_the_directory_is_parsed(
    inbox: Path, destination: Path
) -> None:
    archive = write_zip(inbox / "z.zip", [("only.txt", b"1")])
    data = bytearray(archive.read_bytes())
    data[-14:-10] = struct.pack("<2H", 50_000, 50_000)  # the end record claims 50,000 entries
    archive.write_bytes(bytes(data))
    assert len(zipfile.ZipFile(archive).infolist()) == 1  # zipfile alone would parse one

    assert refused(archive, destination, ArchiveLimits(max_files=1000)).reason_code == Reason.TOO_MANY_FILES


@pytest.mark.parametrize(
    "field", ["max_files", "max_file_bytes", "max_total_bytes", "max_ratio", "ratio_min_bytes"]
)
def test_limits_must_be_positive(field: str) -> None:
    with pytest.raises(ValueError, match=f"ArchiveLimits.{field} must be positive"):
        ArchiveLimits(**{field: 0})


def test_duplicate_zip_entries(inbox: Path, destination: Path) -> None:
    with pytest.warns(UserWarning, match="Duplicate name"):
        archive = write_zip(inbox / "z.zip", [("model/a.txt", b"1"), ("model/a.txt", b"2")])

    assert refused(archive, destination).reason_code == Reason.DUPLICATE_PATH


def test_a_zip_bomb_is_refused_by_its_declared_ratio(inbox: Path, destination: Path) -> None:
    archive = inbox / "bomb.zip"
    zip_bomb(archive, declared_size=GIB)

    error = refused(archive, destination)

    assert error.reason_code == Reason.COMPRESSION_RATIO


def test_a_zip_bomb_lying_about_its_size_is_stopped_once_it_outgrows_it(
    inbox: Path, destination: Path
) -> None:
    archive = inbox / "bomb.zip"
    zip_bomb(archive, declared_size=1000)  # 1 GiB of zeros claiming to be 1000 bytes

    error = refused(archive, destination)

    assert (error.reason_code, error.message) == (
        Reason.FILE_TOO_LARGE,
        "'weights.bin' unpacks to more than its declared 1000 bytes",
    )


def test_a_lying_zip_bomb_is_stopped_at_the_file_limit(inbox: Path, destination: Path) -> None:
    archive = inbox / "bomb.zip"
    zip_bomb(archive, declared_size=4 * MIB)
    limits = ArchiveLimits(max_file_bytes=4 * MIB, max_ratio=1e9)

    error = refused(archive, destination, limits)

    assert (error.reason_code, error.message) == (
        Reason.FILE_TOO_LARGE,
        "'weights.bin' is larger than 4194304 bytes",
    )


def test_zip_files_declaring_more_than_the_total_limit(inbox: Path, destination: Path) -> None:
    archive = write_zip(inbox / "z.zip", [(f"f{i}", os.urandom(MIB)) for i in range(3)])

    error = refused(archive, destination, ArchiveLimits(max_total_bytes=2 * MIB))

    assert error.reason_code == Reason.TOTAL_TOO_LARGE


def test_a_zip_entry_smaller_than_declared_is_corrupt(inbox: Path, destination: Path) -> None:
    data = b"short content"
    entry = RawZipEntry("a.txt", data, zlib.crc32(data), 100, method=zipfile.ZIP_STORED)
    write_raw_zip(inbox / "z.zip", [entry])

    error = refused(inbox / "z.zip", destination)

    assert (error.reason_code, error.message) == (Reason.NOT_AN_ARCHIVE, "'a.txt' holds 13 bytes, not 100")


def test_a_zip_entry_with_a_bad_crc_is_corrupt(inbox: Path, destination: Path) -> None:
    data = deflated(b"hello", 0)
    write_raw_zip(inbox / "z.zip", [RawZipEntry("a.txt", data, 12345, 5)])

    assert refused(inbox / "z.zip", destination).reason_code == Reason.NOT_AN_ARCHIVE


def test_zip_methods_without_bounded_decompression_are_refused(inbox: Path, destination: Path) -> None:
    with zipfile.ZipFile(inbox / "z.zip", "w", zipfile.ZIP_BZIP2) as archive:
        archive.writestr("a.txt", b"bzip2 inside zip")

    error = refused(inbox / "z.zip", destination)

    assert (error.reason_code, error.message) == (
        Reason.NOT_AN_ARCHIVE,
        "entry 'a.txt' uses compression method 12",
    )
