"""All ORM tables, imported together so that Alembic and the app see the same metadata."""

from budgraph.db.auth import ApiKey, ApiKeyEvent
from budgraph.db.base import Base
from budgraph.db.catalog import License, Model
from budgraph.db.engines import CompatibilityEdge, Engine, EngineVersion, ModelArchitecture, ParserRule
from budgraph.db.hardware import Hardware, HardwarePrice
from budgraph.db.jobs import Job, ModelFile, ScanResult
from budgraph.db.leaderboards import (
    Benchmark,
    LeaderboardEntry,
    LeaderboardSnapshot,
    LeaderboardSource,
    ModelAlias,
)
from budgraph.db.providers import Provider, ProviderModel
from budgraph.db.registry import ChangeLogEntry, ChangePublication, RegistryState, RowCountDelta
from budgraph.db.releases import (
    QuantizationSupport,
    UpstreamArchitecture,
    UpstreamDroppedArchitecture,
    UpstreamQuantization,
    UpstreamRelease,
)

# After the tables: it adds the indexes that read lists in their orders.
import budgraph.db.read_indexes  # noqa: F401  isort: skip

__all__ = [
    "ApiKey",
    "ApiKeyEvent",
    "Base",
    "Benchmark",
    "ChangeLogEntry",
    "ChangePublication",
    "CompatibilityEdge",
    "Engine",
    "EngineVersion",
    "Hardware",
    "HardwarePrice",
    "Job",
    "LeaderboardEntry",
    "LeaderboardSnapshot",
    "LeaderboardSource",
    "License",
    "Model",
    "ModelAlias",
    "ModelArchitecture",
    "ModelFile",
    "ParserRule",
    "Provider",
    "ProviderModel",
    "QuantizationSupport",
    "RegistryState",
    "RowCountDelta",
    "ScanResult",
    "UpstreamArchitecture",
    "UpstreamDroppedArchitecture",
    "UpstreamQuantization",
    "UpstreamRelease",
]
