"""A model in a local directory, such as an extracted uploaded archive."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from budgraph.extraction.errors import ExtractionFailed
from budgraph.extraction.sources.base import (
    MAX_SMALL_FILE_BYTES,
    RemoteFile,
    check_range,
    check_range_result,
    check_small_read,
)


class LocalModelFiles:
    """Files under ``directory``. Paths are POSIX-style and relative; nothing outside the directory is
    read, even through a symlink (an uploaded archive may carry hostile links)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.root = Path(directory).resolve()
        if not self.root.is_dir():
            raise ExtractionFailed("the model's files are gone (their folder does not exist)")

    @property
    def gated(self) -> bool | None:
        return None

    @property
    def revision(self) -> str | None:
        return None

    def list_files(self) -> list[RemoteFile]:
        found: list[RemoteFile] = []
        for folder, subfolders, names in os.walk(self.root):
            subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
            for name in sorted(names):
                path = Path(folder, name)
                if not self._inside(path) or not path.is_file():
                    continue
                found.append(RemoteFile(path.relative_to(self.root).as_posix(), path.stat().st_size))
        return found

    def read_bytes(self, path: str, max_bytes: int = MAX_SMALL_FILE_BYTES) -> bytes:
        target = self._resolve(path)
        check_small_read(path, target.stat().st_size, max_bytes)
        return target.read_bytes()

    def read_range(self, path: str, start: int, end: int) -> bytes:
        check_range(path, start, end)
        target = self._resolve(path)
        with target.open("rb") as handle:
            handle.seek(start)
            return check_range_result(path, start, end, handle.read(end - start))

    def _inside(self, path: Path) -> bool:
        return path.resolve().is_relative_to(self.root)

    def _resolve(self, path: str) -> Path:
        relative = PurePosixPath(path)
        if relative.is_absolute() or ".." in relative.parts:
            raise ExtractionFailed(f"invalid file path {path!r}")
        target = self.root.joinpath(*relative.parts)
        if not self._inside(target):
            raise ExtractionFailed(f"{path} points outside the model directory")
        if not target.is_file():
            raise ExtractionFailed(f"{path} does not exist")
        return target
