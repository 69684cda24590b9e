"""``import_release``: read one engine release artifact (wheel, sdist or directory) into ``ReleaseFacts``."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from budgraph.releases.errors import ReleaseImportError
from budgraph.releases.facts import ReleaseFacts
from budgraph.releases.llamacpp import import_llamacpp
from budgraph.releases.sglang import import_sglang
from budgraph.releases.tree import MANIFEST, ReleaseTree, open_release
from budgraph.releases.vllm import import_vllm

__all__ = [
    "DISTRIBUTIONS",
    "IMPORTERS",
    "SOURCES",
    "ReleaseImportError",
    "ShippedRelease",
    "import_release",
    "import_tree",
    "shipped_releases",
]

Importer = Callable[[ReleaseTree, str], ReleaseFacts]

IMPORTERS: dict[str, Importer] = {
    "vllm": import_vllm,
    "sglang": import_sglang,
    "llamacpp": import_llamacpp,
}
SOURCES = Path(__file__).parent / "sources"
# The package-index distribution that publishes each engine's releases.
DISTRIBUTIONS: dict[str, str] = {"vllm": "vllm", "sglang": "sglang", "llamacpp": "llama_cpp_python"}


def _same_version(a: str, b: str) -> bool:
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def import_tree(engine: str, version: str, tree: ReleaseTree) -> ReleaseFacts:
    importer = IMPORTERS.get(engine)
    if importer is None:
        raise ReleaseImportError(
            f"unknown engine {engine!r}; importers exist for: {', '.join(sorted(IMPORTERS))}"
        )
    expected = DISTRIBUTIONS[engine]
    if tree.distribution is not None and canonicalize_name(tree.distribution) != canonicalize_name(expected):
        raise ReleaseImportError(
            f"{tree.artifact}: not an artifact of {engine} "
            f"(its metadata names {tree.distribution!r}, not {expected!r})"
        )
    if tree.version is not None and not _same_version(tree.version, version):
        raise ReleaseImportError(f"{tree.artifact}: is release {tree.version}, not --version {version}")
    return importer(tree, version)


def import_release(engine: str, version: str, path: Path) -> ReleaseFacts:
    """The facts ``engine``'s release ``version`` declares, read from the artifact at ``path``."""
    if engine not in IMPORTERS:
        raise ReleaseImportError(
            f"unknown engine {engine!r}; importers exist for: {', '.join(sorted(IMPORTERS))}"
        )
    return import_tree(engine, version, open_release(path))


@dataclass(frozen=True)
class ShippedRelease:
    """A release whose source files ship in ``sources/``, and where its artifact was downloaded from."""

    engine: str
    version: str
    path: Path
    artifact: str
    artifact_url: str
    artifact_sha256: str


def shipped_releases(sources: Path = SOURCES) -> list[ShippedRelease]:
    """Every shipped release, by engine and version (``import_release(r.engine, r.version, r.path)``)."""
    releases = []
    for manifest_path in sorted(sources.glob(f"*/*/{MANIFEST}")):
        manifest = json.loads(manifest_path.read_text("utf-8"))
        releases.append(
            ShippedRelease(
                engine=manifest["engine"],
                version=manifest["version"],
                path=manifest_path.parent,
                artifact=manifest["artifact"],
                artifact_url=manifest["artifact_url"],
                artifact_sha256=manifest["artifact_sha256"],
            )
        )
    return sorted(releases, key=lambda r: (r.engine, Version(r.version)))
