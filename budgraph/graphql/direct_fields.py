"""The root fields answered directly (budgraph/graphql/direct.py), each from its domain."""

from __future__ import annotations

from budgraph.compatibility.direct import COMPATIBLE_ENGINE_VERSIONS
from budgraph.engines.direct import LATEST_ENGINE_VERSION
from budgraph.graphql.direct import DirectField
from budgraph.registry.direct import CHANGES

DIRECT_FIELDS: dict[str, DirectField] = {
    "latestEngineVersion": LATEST_ENGINE_VERSION,
    "compatibleEngineVersions": COMPATIBLE_ENGINE_VERSIONS,
    "changes": CHANGES,
}
