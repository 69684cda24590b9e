"""A release's files by their path inside the release, read from a wheel, an sdist or a directory.

A directory is an unpacked tree (an sdist's top folder, a wheel's contents, a checkout) or one of our
shipped trees (``sources/<engine>/<version>/`` with a ``MANIFEST.json`` and, for file sets too large to
ship loose, a ``.tar.xz`` bundle holding the files under the same paths). Every read is remembered, so
``extract`` ships exactly the files an importer read.
"""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from email.parser import HeaderParser
from pathlib import Path, PurePosixPath

from budgraph.releases.errors import ReleaseImportError

MANIFEST = "MANIFEST.json"
# Only text files an importer can want are kept in memory from an archive.
_KEPT_SUFFIXES = (".py", ".txt", "PKG-INFO", "METADATA")
_KEPT_MAX_BYTES = 4 * 1024 * 1024


class ReleaseTree:
    """The files of one release, with the name and version its own metadata states (if it states them)."""

    def __init__(
        self, artifact: str, files: dict[str, bytes], *, name: str | None, version: str | None
    ) -> None:
        self.artifact = artifact
        self.distribution = name
        self.version = version
        self._files = files
        self.reads: dict[str, bytes] = {}

    def read(self, path: str) -> bytes | None:
        data = self._files.get(path)
        if data is not None:
            self.reads[path] = data
        return data

    def text(self, path: str) -> str | None:
        data = self.read(path)
        return None if data is None else data.decode("utf-8")

    def exists(self, path: str) -> bool:
        return path in self._files

    def files_in(self, folder: str) -> list[str]:
        """The files directly in ``folder`` (a path inside the release), sorted."""
        prefix = folder.rstrip("/") + "/" if folder else ""
        return sorted(p for p in self._files if p.startswith(prefix) and "/" not in p[len(prefix) :])

    def folders(self, folder: str) -> list[str]:
        """The folders directly in ``folder`` that hold files, sorted."""
        prefix = folder.rstrip("/") + "/" if folder else ""
        return sorted(
            {
                p[len(prefix) :].split("/", 1)[0]
                for p in self._files
                if p.startswith(prefix) and "/" in p[len(prefix) :]
            }
        )

    def subtree(self, prefix: str) -> ReleaseTree:
        """The files under ``prefix`` by their path below it; reads are still recorded here."""
        files = {p.removeprefix(prefix): d for p, d in self._files.items() if p.startswith(prefix)}
        sub = ReleaseTree(self.artifact, files, name=self.distribution, version=self.version)
        sub.reads = _Prefixed(self.reads, prefix)
        return sub


class _Prefixed(dict[str, bytes]):
    """A subtree's record of reads, written into its parent's under the full path."""

    def __init__(self, parent: dict[str, bytes], prefix: str) -> None:
        super().__init__()
        self.parent, self.prefix = parent, prefix

    def __setitem__(self, key: str, value: bytes) -> None:
        super().__setitem__(key, value)
        self.parent[self.prefix + key] = value


def open_release(path: Path) -> ReleaseTree:
    if not path.exists():
        raise ReleaseImportError(f"{path}: no such file or directory")
    if path.is_dir():
        return _open_directory(path)
    if path.name.endswith(".whl"):
        return _open_wheel(path)
    if path.name.endswith((".tar.gz", ".tgz")):
        return _open_sdist(path)
    raise ReleaseImportError(f"{path}: not a wheel (.whl), an sdist (.tar.gz) or a source directory")


def _metadata(text: str) -> tuple[str | None, str | None]:
    headers = HeaderParser().parsestr(text)
    return headers.get("Name"), headers.get("Version")


def _kept(name: str, size: int) -> bool:
    return name.endswith(_KEPT_SUFFIXES) and size <= _KEPT_MAX_BYTES


def _open_wheel(path: Path) -> ReleaseTree:
    try:
        with zipfile.ZipFile(path) as wheel:
            files = {
                info.filename: wheel.read(info)
                for info in wheel.infolist()
                if not info.is_dir() and _kept(info.filename, info.file_size)
            }
    except (zipfile.BadZipFile, OSError) as exc:
        raise ReleaseImportError(f"{path}: not a readable wheel ({exc})") from exc
    metadata = [p for p in files if p.count("/") == 1 and p.endswith(".dist-info/METADATA")]
    if len(metadata) != 1:
        raise ReleaseImportError(
            f"{path}: a wheel has exactly one *.dist-info/METADATA; found {len(metadata)}"
        )
    name, version = _metadata(files[metadata[0]].decode("utf-8"))
    return ReleaseTree(path.name, files, name=name, version=version)


def _read_tar(tar: tarfile.TarFile, *, strip_top: bool) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for member in tar:
        if not member.isfile() or not _kept(member.name, member.size):
            continue
        parts = PurePosixPath(member.name).parts
        if strip_top:
            parts = parts[1:]
        handle = tar.extractfile(member)
        if handle is not None and parts:
            files["/".join(parts)] = handle.read()
    return files


def _open_sdist(path: Path) -> ReleaseTree:
    try:
        with tarfile.open(path, "r:gz") as tar:
            files = _read_tar(tar, strip_top=True)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ReleaseImportError(f"{path}: not a readable sdist ({exc})") from exc
    if "PKG-INFO" not in files:
        raise ReleaseImportError(f"{path}: an sdist has a PKG-INFO in its top folder; this one has none")
    name, version = _metadata(files["PKG-INFO"].decode("utf-8"))
    return ReleaseTree(path.name, files, name=name, version=version)


def _open_directory(root: Path) -> ReleaseTree:
    if (root / MANIFEST).is_file():
        return open_shipped(root)
    children = [c for c in root.iterdir() if not c.name.startswith(".")]
    if not (root / "PKG-INFO").is_file() and len(children) == 1 and children[0].is_dir():
        root = children[0]  # an unpacked sdist: its one top folder
    files = {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and _kept(p.name, p.stat().st_size)
    }
    name = version = None
    metadata = [
        p for p in files if p == "PKG-INFO" or (p.count("/") == 1 and p.endswith(".dist-info/METADATA"))
    ]
    if len(metadata) == 1:
        name, version = _metadata(files[metadata[0]].decode("utf-8"))
    return ReleaseTree(root.name, files, name=name, version=version)


def open_shipped(root: Path) -> ReleaseTree:
    """One of our shipped trees: the files its MANIFEST lists, loose or in a bundle."""
    try:
        manifest = json.loads((root / MANIFEST).read_text("utf-8"))
        artifact, version, listed = manifest["artifact"], manifest["version"], manifest["files"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ReleaseImportError(f"{root / MANIFEST}: not a readable release manifest ({exc})") from exc
    files: dict[str, bytes] = {}
    for bundle in sorted({entry.get("bundle") for entry in listed} - {None}):
        with tarfile.open(root / bundle, "r:xz") as tar:
            files.update(_read_tar(tar, strip_top=False))
    for entry in listed:
        if entry.get("bundle") is None:
            files[entry["path"]] = (root / entry["path"]).read_bytes()
    missing = sorted(entry["path"] for entry in listed if entry["path"] not in files)
    if missing:
        raise ReleaseImportError(f"{root}: files its MANIFEST lists are absent: {', '.join(missing[:5])}")
    return ReleaseTree(artifact, files, name=manifest.get("distribution"), version=version)


def tar_bytes(files: dict[str, bytes]) -> bytes:
    """A reproducible .tar.xz of ``files`` (sorted, no owners, no times) for a shipped bundle."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:xz", preset=9) as tar:
        for path in sorted(files):
            info = tarfile.TarInfo(path)
            info.size = len(files[path])
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(files[path]))
    return buffer.getvalue()
