"""The root fields answered directly (budgraph/graphql/direct.py) or by a compiled statement
(budgraph/graphql/compiled.py), each from its domain, and the tables types are compiled from."""

from __future__ import annotations

from budgraph.compatibility.direct import COMPATIBLE_ENGINE_VERSIONS, MODEL_ARCHITECTURE_SHAPE
from budgraph.engines.direct import ENGINE_SHAPE, ENGINE_VERSION_SHAPE, LATEST_ENGINE_VERSION
from budgraph.graphql.compiled import TableShape
from budgraph.graphql.compiled_roots import CompiledRoot
from budgraph.graphql.direct import DirectField
from budgraph.jobs.direct import JOB_SHAPE, MODEL_FILE_SHAPE, SCAN_RESULT_SHAPE
from budgraph.leaderboards.direct import BENCHMARK_SHAPE, LEADERBOARD, LEADERBOARD_ENTRY_SHAPE
from budgraph.models.direct import LICENSE_SHAPE, MODEL, MODEL_SHAPE, MODELS
from budgraph.registry.direct import CHANGES, REGISTRY_CHANGE_SHAPE

DIRECT_FIELDS: dict[str, DirectField] = {
    "compatibleEngineVersions": COMPATIBLE_ENGINE_VERSIONS,
}

COMPILED_ROOTS: dict[str, CompiledRoot] = {
    "latestEngineVersion": LATEST_ENGINE_VERSION,
    "models": MODELS,
    "model": MODEL,
    "changes": CHANGES,
    "leaderboard": LEADERBOARD,
}

TABLE_SHAPES: dict[str, TableShape] = {
    shape.type_name: shape
    for shape in (
        MODEL_SHAPE,
        LICENSE_SHAPE,
        MODEL_ARCHITECTURE_SHAPE,
        ENGINE_VERSION_SHAPE,
        ENGINE_SHAPE,
        JOB_SHAPE,
        MODEL_FILE_SHAPE,
        SCAN_RESULT_SHAPE,
        REGISTRY_CHANGE_SHAPE,
        LEADERBOARD_ENTRY_SHAPE,
        BENCHMARK_SHAPE,
    )
}
