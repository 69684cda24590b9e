"""Re-extract the shipped source files of a release from its published artifact.

``python -m budgraph.releases.extract ENGINE VERSION ARTIFACT --url URL`` imports the artifact, writes
exactly the files the importer read under ``sources/<engine>/<version>/`` (byte for byte: the entry files
loose, where a reviewer reads them; the hundreds of model and config files one ``.tar.xz`` bundle holds
under the same paths, which keeps all seven shipped releases to a few MB),
writes the ``MANIFEST.json`` (artifact, its sha256 and URL, each file's sha256), and checks that the
shipped tree gives the same facts as the artifact.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path

from budgraph.releases.errors import ReleaseImportError
from budgraph.releases.importers import DISTRIBUTIONS, SOURCES, import_tree
from budgraph.releases.tree import MANIFEST, open_release, open_shipped, tar_bytes

BUNDLE = "bundle.tar.xz"
# The files shipped loose: where each importer starts reading. Every other file read goes in the bundle.
LOOSE: dict[str, frozenset[str]] = {
    "vllm": frozenset(
        {"vllm/model_executor/models/registry.py", "vllm/model_executor/layers/quantization/__init__.py"}
    ),
    "sglang": frozenset({"sglang/srt/layers/quantization/__init__.py"}),
    "llamacpp": frozenset({"vendor/llama.cpp/convert_hf_to_gguf.py"}),
}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _bundled(engine: str, path: str) -> bool:
    return path not in LOOSE[engine]


def extract(engine: str, version: str, artifact: Path, *, url: str, sources: Path = SOURCES) -> Path:
    """Write the shipped tree of ``engine`` ``version`` from ``artifact``; returns its folder."""
    tree = open_release(artifact)
    facts = import_tree(engine, version, tree)
    reads = dict(tree.reads)
    out = sources / engine / version
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    bundle = {p: d for p, d in reads.items() if _bundled(engine, p)}
    for path, data in reads.items():
        if path not in bundle:
            target = out / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    manifest: dict[str, object] = {
        "engine": engine,
        "version": version,
        "distribution": DISTRIBUTIONS[engine],
        "artifact": artifact.name,
        "artifact_sha256": _sha256(artifact.read_bytes()),
        "artifact_url": url,
        "files": [
            {
                "path": p,
                "sha256": _sha256(reads[p]),
                "size": len(reads[p]),
                **({"bundle": BUNDLE} if p in bundle else {}),
            }
            for p in sorted(reads)
        ],
    }
    if bundle:
        data = tar_bytes(bundle)
        (out / BUNDLE).write_bytes(data)
        manifest["bundles"] = [{"name": BUNDLE, "sha256": _sha256(data)}]
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", "utf-8")
    again = import_tree(engine, version, open_shipped(out))
    if again != facts:
        raise ReleaseImportError(f"{out}: the shipped files give other facts than {artifact.name}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m budgraph.releases.extract", description=__doc__)
    parser.add_argument("engine", choices=sorted(DISTRIBUTIONS))
    parser.add_argument("version")
    parser.add_argument("artifact", type=Path)
    parser.add_argument(
        "--url", required=True, help="where the artifact was downloaded from (its PyPI file URL)"
    )
    args = parser.parse_args(argv)
    try:
        out = extract(args.engine, args.version, args.artifact, url=args.url)
    except ReleaseImportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
