"""The benchmark's scenarios: what runtimes and dashboards really ask, as GraphQL documents.

Each scenario has budgraph's document (those of tests/hardening/test_query_limits.py where they fit,
so each is known to pass the cost limits), PostGraphile's closest equivalent over the same database
(with what it cannot say, in ``postgraphile_note``), and the floor's route. The floor answers in
budgraph's shape, so ``facts`` compares the two directly; it drops what only a GraphQL server
makes (opaque cursors).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.data import Probe

Variables = Callable[[Probe], dict[str, Any]]

RUNTIME_SLICE = """
query Slice($model: String, $arch: String) {
  compatibleEngineVersions(model: $model, architecture: $arch, deviceArchitecture: CUDA) {
    nodes { engineVersion { version engine { slug } } containerImage toolCallParser reasoningParser
            supportsLora supportsPipelineParallelism }
  }
}
"""
LATEST = """
query Latest($engine: String!) { latestEngineVersion(engine: $engine, deviceArchitecture: CUDA) { version containerImage } }
"""
CHANGES = """
query Changes($since: BigInt!) { changes(since: $since, first: 100) { registryVersion hasMore endCursor
  changes { registryVersion entityKind entityId operation changedFields actor } } }
"""
DASHBOARD = """
{ models(first: 50) { totalCount pageInfo { hasNextPage endCursor }
    nodes { uri license { key name } architecture { className
      engineVersions(first: 3) { nodes { version containerImage engine { slug } } } } } } }
"""
LEADERBOARD = """
query Leaderboard($benchmark: String!) { leaderboard(benchmark: $benchmark, first: 100) {
  totalCount nodes { score rank position rawModelName model { uri license { key } } } } }
"""
MODEL_TWO_LEVELS = """
query Model($uri: String!) { model(uri: $uri) {
  uri parameterCount contextLength license { key name kind commercialUse }
  architecture { className family engineVersions(first: 20) { nodes { version engine { slug name } } } }
  files(first: 50) { nodes { path size sha256 } }
  jobs(first: 10) { nodes { kind status } }
  scanResults(first: 50) { nodes { scanner path status } }
  scores { score benchmark { key name } }
  factSources { field source }
} }
"""

PG_RUNTIME_SLICE = """
query Slice($arch: String!) {
  modelArchitectureByClassName(className: $arch) { className supportsLora supportsPipelineParallelism
    defaultToolCallParser defaultReasoningParser }
  allEngineVersions(first: 20, condition: {deviceArchitecture: "CUDA", status: "active"},
      orderBy: [ENGINE_ID_ASC, VERSION_KEY_DESC, ID_DESC],
      filter: {compatibilityEdgesByEngineVersionId: {some: {modelArchitectureByArchitectureId: {className: {equalTo: $arch}}}}}) {
    nodes { version containerImage toolCallParsers reasoningParsers
      engineByEngineId { slug parserRulesByEngineId(condition: {enabled: true}) {
        nodes { ruleType parser matchType pattern priority chatTemplate } } } }
  }
}
"""
PG_LATEST = """
query Latest($engine: String!) { engineBySlug(slug: $engine) {
  engineVersionsByEngineId(first: 1, condition: {deviceArchitecture: "CUDA", status: "active"},
      orderBy: [VERSION_KEY_DESC, ID_DESC]) { nodes { version containerImage } } } }
"""
PG_CHANGES = """
query Changes($since: BigInt!) {
  allRegistryStates { nodes { version } }
  allChangeLogs(first: 100, filter: {registryVersion: {greaterThan: $since}}, orderBy: [REGISTRY_VERSION_ASC, ID_ASC]) {
    pageInfo { hasNextPage endCursor }
    nodes { registryVersion entityKind entityId operation changedFields actor } } }
"""
PG_DASHBOARD = """
{ allModels(first: 50, orderBy: [URI_ASC, ID_ASC]) { totalCount pageInfo { hasNextPage endCursor }
    nodes { uri licenseByLicenseId { key name } modelArchitectureByArchitecture { className
      compatibilityEdgesByArchitectureId(first: 3) { nodes { engineVersionByEngineVersionId {
        version containerImage engineByEngineId { slug } } } } } } } }
"""
PG_LEADERBOARD = """
query Leaderboard($benchmark: String!, $snapshot: BigInt!) { benchmarkByKey(key: $benchmark) {
  leaderboardEntriesByBenchmarkId(first: 100, condition: {snapshotId: $snapshot}, orderBy: [SCORE_DESC, RAW_MODEL_NAME_ASC, ID_ASC]) {
    totalCount nodes { score rank rawModelName modelByModelId { uri licenseByLicenseId { key } } } } } }
"""
PG_MODEL_TWO_LEVELS = """
query Model($uri: String!) { allModels(first: 1, condition: {uri: $uri}) { nodes {
  uri parameterCount contextLength licenseByLicenseId { key name kind commercialUse }
  modelArchitectureByArchitecture { className family compatibilityEdgesByArchitectureId(first: 20) {
    nodes { engineVersionByEngineVersionId { version engineByEngineId { slug name } } } } }
  modelFilesByModelId(first: 50) { nodes { path size sha256 } }
  jobsByModelId(first: 10) { nodes { kind status } }
  scanResultsByModelId(first: 50) { nodes { scanner path status } }
  leaderboardEntriesByModelId(first: 100) { nodes { score benchmarkByBenchmarkId { key name } } }
  factSources
} } }
"""


def _without(value: Any, keys: frozenset[str]) -> Any:
    if isinstance(value, dict):
        return {k: _without(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [_without(item, keys) for item in value]
    return value


def same_facts(data: dict[str, Any]) -> Any:
    """An answer without what only a GraphQL server makes (keyset cursors of a root list)."""
    return _without(data, frozenset({"endCursor"}))


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    document: str
    variables: Variables
    postgraphile: str
    postgraphile_variables: Variables
    postgraphile_note: str
    # Whether budgraph's response cache can answer it (registry-versioned data only): a cached row.
    cacheable: bool = False
    facts: Callable[[dict[str, Any]], Any] = same_facts


SCENARIOS = [
    Scenario(
        "runtime_slice",
        "runtime slice",
        RUNTIME_SLICE,
        lambda p: {"model": p.parser_model, "arch": p.architecture},
        PG_RUNTIME_SLICE,
        lambda p: {"arch": p.architecture},
        "same versions, images and order (connection filter on the edge relation); the parser choice"
        " (rules by priority, exact > prefix > regex) is left to the client: the engine's rules come back",
        cacheable=True,
    ),
    Scenario(
        "latest_version",
        "latest version",
        LATEST,
        lambda p: {"engine": p.engine},
        PG_LATEST,
        lambda p: {"engine": p.engine},
        "highest version key; pip's preference of a final release over a newer pre-release is not expressible",
        cacheable=True,
    ),
    Scenario(
        "changes_since",
        "changes since a version",
        CHANGES,
        lambda p: {"since": p.since},
        PG_CHANGES,
        lambda p: {"since": str(p.since)},
        "same rows (connection filter greaterThan); ids are raw keys, no epoch check",
    ),
    Scenario(
        "dashboard",
        "dashboard page",
        DASHBOARD,
        lambda p: {},
        PG_DASHBOARD,
        lambda p: {},
        "the architecture via a virtual foreign key (smart tag on model.architecture); its 3 versions"
        " through the edges in edge order, not by engine and highest version",
    ),
    Scenario(
        "leaderboard",
        "leaderboard top 100",
        LEADERBOARD,
        lambda p: {"benchmark": p.benchmark},
        PG_LEADERBOARD,
        lambda p: {"benchmark": p.benchmark, "snapshot": str(p.snapshot_pk)},
        "the client must know the current snapshot's id; no position over ties, no direction per benchmark",
    ),
    Scenario(
        "model",
        "a model two levels deep",
        MODEL_TWO_LEVELS,
        lambda p: {"uri": p.model_uri},
        PG_MODEL_TWO_LEVELS,
        lambda p: {"uri": p.model_uri},
        "a list filtered by exact uri (the unique index is not a constraint, so no lookup field; no case-insensitive Hub match); every entry of the model, not its best current one"
        " per benchmark; the architecture's versions in edge order",
    ),
]
BY_KEY = {scenario.key: scenario for scenario in SCENARIOS}
