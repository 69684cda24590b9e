"""The facts of every shipped release, read once by the importers and kept as a seed file.

Parsing the eleven shipped releases takes about half a minute (SGLang's model files alone are a few
hundred). The seed reads ``budgraph/seeds/data/releases.json`` instead: exactly what the importers
give for each shipped tree, with the artifact it came from. ``make release-facts`` (or
``python -m budgraph.releases.shipped_facts``) rewrites it, and a test fails when it no longer equals
what the importers read from ``sources/``.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from budgraph.releases.facts import (
    ArchitectureFact,
    DroppedArchitecture,
    QuantizationFact,
    ReleaseFacts,
    SourceRef,
)
from budgraph.releases.importers import SOURCES, import_release, shipped_releases
from budgraph.seeds.files import DATA_DIR

FACTS_FILE = DATA_DIR / "releases.json"


@dataclass(frozen=True)
class ShippedFacts:
    """One shipped release: what its importer read, and the published artifact it was extracted from."""

    facts: ReleaseFacts
    artifact_url: str
    artifact_sha256: str


def _source(value: dict[str, Any]) -> SourceRef:
    return SourceRef(**value)


def _architecture(value: dict[str, Any]) -> ArchitectureFact:
    return ArchitectureFact(
        **{
            **value,
            "endpoints": tuple(value["endpoints"]),
            "source": _source(value["source"]),
            "other_sources": tuple(_source(s) for s in value["other_sources"]),
        }
    )


def _dropped(value: dict[str, Any]) -> DroppedArchitecture:
    return DroppedArchitecture(**{**value, "source": _source(value["source"])})


def _quantization(value: dict[str, Any]) -> QuantizationFact:
    return QuantizationFact(
        **{
            **value,
            "activation_dtypes": tuple(value["activation_dtypes"]),
            "source": _source(value["source"]),
        }
    )


def to_record(shipped: ShippedFacts) -> dict[str, Any]:
    return {
        "artifact_url": shipped.artifact_url,
        "artifact_sha256": shipped.artifact_sha256,
        "facts": asdict(shipped.facts),
    }


def from_record(record: dict[str, Any]) -> ShippedFacts:
    facts = record["facts"]
    return ShippedFacts(
        facts=ReleaseFacts(
            engine=facts["engine"],
            version=facts["version"],
            artifact=facts["artifact"],
            architectures=tuple(_architecture(a) for a in facts["architectures"]),
            dropped=tuple(_dropped(d) for d in facts["dropped"]),
            quantization=tuple(_quantization(q) for q in facts["quantization"]),
        ),
        artifact_url=record["artifact_url"],
        artifact_sha256=record["artifact_sha256"],
    )


def read_shipped(sources: Path = SOURCES) -> list[ShippedFacts]:
    """Run each engine's importer on every shipped release (slow: tens of seconds)."""
    return [
        ShippedFacts(import_release(r.engine, r.version, r.path), r.artifact_url, r.artifact_sha256)
        for r in shipped_releases(sources)
    ]


def render(shipped: list[ShippedFacts]) -> str:
    """The seed file's text: one release per record, in the importers' order."""
    document = {
        "about": "What each shipped release's own code declares, read by budgraph's importers from"
        " budgraph/releases/sources (regenerate with `make release-facts`).",
        "records": [to_record(s) for s in shipped],
    }
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


_loaded: dict[Path, list[ShippedFacts]] = {}


def load(path: Path = FACTS_FILE) -> list[ShippedFacts]:
    """The seed file's releases (parsed once per process and path)."""
    if path not in _loaded:
        if not path.exists():
            _loaded[path] = []
        else:
            records = json.loads(path.read_text("utf-8"))["records"]
            _loaded[path] = [from_record(r) for r in records]
    return _loaded[path]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Rewrite the seed file of the shipped releases' facts.")
    parser.add_argument("--out", type=Path, default=FACTS_FILE)
    args = parser.parse_args(argv)
    shipped = read_shipped()
    args.out.write_text(render(shipped), "utf-8")
    print(f"{args.out}: {len(shipped)} releases")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
