"""The data the schema-generated filter test runs on, and the same data in memory for its oracle.

The seeded catalogue (`budgraph.seeds.service.seed`), plus the rows some filters need and the seed
does not have: engine versions with endpoints, statuses and pre-releases; models with licenses,
sizes and statuses; jobs; leaderboard snapshots (the recorded samples, read offline) linked to those
models; prices of one offer on several dates.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from budgraph import db
from budgraph.auth.keys import hash_key
from budgraph.kit.db import RequestSession
from budgraph.leaderboards.refresh import refresh
from budgraph.leaderboards.sources.base import StaticSourceSettings
from budgraph.seeds.service import seed
from tests import factories


async def _versions(session: AsyncSession) -> None:
    engines = {row.slug: row for row in (await session.scalars(select(db.Engine))).all()}
    archs = {row.class_name: row for row in (await session.scalars(select(db.ModelArchitecture))).all()}
    extra = [
        ("vllm", "0.10.0", "CUDA", "active", ["CHAT", "COMPLETION", "EMBEDDING"], ["Qwen2ForCausalLM"]),
        ("vllm", "0.11.0rc1", "CUDA", "active", ["CHAT"], ["Qwen2ForCausalLM", "LlamaForCausalLM"]),
        ("vllm", "0.9.2", "ROCM", "active", ["CHAT", "COMPLETION"], ["LlamaForCausalLM"]),
        ("vllm", "0.7.3", "CUDA", "deprecated", ["COMPLETION"], ["LlamaForCausalLM"]),
        ("sglang", "0.4.6", "CUDA", "active", ["CHAT", "RERANK"], ["Qwen2ForCausalLM", "LlamaForCausalLM"]),
        ("sglang", "0.4.5", "CUDA", "yanked", ["CHAT"], ["DeepseekV3ForCausalLM"]),
    ]
    for slug, version, device, status, endpoints, served in extra:
        row = await factories.version(
            session, engines[slug], version, device, status=status, endpoints=endpoints
        )
        for class_name in served:
            await factories.edge(session, row, archs[class_name])
    session.add(
        db.ParserRule(
            engine_id=engines["sglang"].id, rule_type="tool", parser="qwen25", match_type="prefix",
            pattern="Qwen/Qwen2.5-", enabled=False,
        )
    )  # fmt: skip
    await session.flush()


MODELS: list[tuple[str, dict[str, Any]]] = [
    (
        "meta-llama/Llama-3.1-8B-Instruct",
        {"author": "meta-llama", "architecture": "LlamaForCausalLM", "license": "llama3.1",
         "parameter_count": 8_030_261_248, "context_length": 131_072, "status": "ready"},
    ),
    (
        "Qwen/Qwen2.5-72B-Instruct",
        {"author": "Qwen", "architecture": "Qwen2ForCausalLM", "license": "apache-2.0",
         "parameter_count": 72_706_203_648, "context_length": 32_768, "status": "ready"},
    ),
    (
        "mistralai/Mistral-7B-Instruct-v0.3",
        {"author": "mistralai", "architecture": "MistralForCausalLM", "license": "apache-2.0",
         "parameter_count": 7_248_023_552, "context_length": 32_768},
    ),
    (
        "deepseek-ai/DeepSeek-R1",
        {"author": "deepseek-ai", "architecture": "DeepseekV3ForCausalLM", "license": "mit",
         "parameter_count": 684_531_386_000, "context_length": 163_840, "status": "failed"},
    ),
    (
        "Qwen/Qwen2.5-VL-7B-Instruct",
        {"author": "Qwen", "architecture": "Qwen2ForCausalLM", "license": "cc-by-nc-4.0",
         "modality": "vision-language", "parameter_count": 8_292_166_656},
    ),
    (
        "https://example.org/models/tiny-qwen.tar",
        {"source_kind": "url", "architecture": "Qwen2ForCausalLM", "modality": "embedding",
         "parameter_count": 494_032_768, "context_length": 512},
    ),
]  # fmt: skip


async def _models(session: AsyncSession) -> None:
    licenses = {row.key: row.id for row in (await session.scalars(select(db.License))).all()}
    for uri, values in MODELS:
        values = dict(values)
        license_key = values.pop("license", None)
        await factories.model(session, uri, license_id=licenses.get(license_key), **values)


async def _jobs(session: AsyncSession) -> None:
    models = (await session.scalars(select(db.Model).order_by(db.Model.id))).all()
    plan = [("extract", "succeeded"), ("scan", "failed"), ("extract", "queued"), ("scan", "running")]
    for index, model in enumerate(models[:4]):
        kind, status = plan[index]
        session.add(
            db.Job(
                kind=kind,
                model_id=model.id,
                revision="main",
                target=f"{model.uri}@main",
                dedupe_key=f"{kind}:{model.id}:main",
                status=status,
                requested_by="test",
            )
        )
    session.add(
        db.Job(
            kind="leaderboard_refresh", target="leaderboards", dedupe_key="week", status="succeeded",
            requested_by="test",
        )
    )  # fmt: skip
    await session.flush()


async def _prices(session: AsyncSession) -> None:
    """One offer priced on three dates (the latest is current), so `asOf` and `currentOnly` matter."""
    hardware = await session.scalar(select(db.Hardware).where(db.Hardware.sku == "nvidia-h100-sxm5-80gb"))
    lambda_cloud = await session.scalar(select(db.Provider).where(db.Provider.slug == "lambda"))
    assert hardware is not None
    assert lambda_cloud is not None
    for as_of, price in (("2023-06-01", "3.29"), ("2024-03-01", "2.99"), ("2025-09-01", "2.19")):
        await factories.hardware_price(
            session, hardware, lambda_cloud, price, region="us-west-1", instance_type="gpu_8x_h100_sxm5",
            as_of=as_of, devices_per_instance=8,
        )  # fmt: skip


# The admin key the filter test reads the admin-only lists with. Its last use lies in the future,
# so reading records no use: the events the test lists stay those loaded into the world.
ADMIN_KEY = "bgk_f117e2000000_" + "A" * 43
KEYS = [
    # name, scope, expires (None: never; a past date: expired), revoked, own rate limit
    ("ops-ann", "admin", None, False, None),
    ("ci-bot", "write", "2031-01-01", False, 5000),
    ("dashboard", "read", "2024-01-01", False, None),
    ("old-runtime", "read", None, True, 100),
    ("batch-loader", "write", "2023-06-01", True, None),
]


async def _api_keys(session: AsyncSession) -> None:
    """Keys in every status and scope, and their events on known dates (the audit's filters)."""
    session.add(
        db.ApiKey(
            name="filter-admin", prefix=ADMIN_KEY.split("_")[1], secret_hash=hash_key(ADMIN_KEY), scope="admin",
            last_used_at=datetime(2999, 1, 1, tzinfo=UTC),
        )
    )  # fmt: skip
    for index, (name, scope, expires, revoked, rate_limit) in enumerate(KEYS):
        day = datetime(2024, 1 + index, 10, 12, tzinfo=UTC)
        key = db.ApiKey(
            name=name, prefix=f"{index:012x}", secret_hash=hash_key(name), scope=scope, rate_limit=rate_limit,
            expires_at=datetime.fromisoformat(expires).replace(tzinfo=UTC) if expires else None,
            revoked_at=day + timedelta(days=20) if revoked else None,
        )  # fmt: skip
        session.add(key)
        await session.flush()
        events = [("created", "ops-ann", day, {"scope": scope}), ("used", name, day + timedelta(days=1), {})]
        if rate_limit is not None:
            events.append(
                (
                    "rate_limit_changed",
                    "ops-ann",
                    day + timedelta(days=2),
                    {"before": None, "after": rate_limit},
                )
            )
        if revoked:
            events.append(("revoked", "cli:root", day + timedelta(days=20), {}))
        for kind, actor, when, detail in events:
            session.add(
                db.ApiKeyEvent(
                    api_key_id=key.id, kind=kind, actor=actor, client_address="192.0.2.7", occurred_at=when,
                    detail=detail,
                )
            )  # fmt: skip
    await session.flush()


async def build(sessions: async_sessionmaker[RequestSession]) -> None:
    async with sessions() as session:
        await seed(session)
        await _versions(session)
        await _models(session)
        await _jobs(session)
        await _prices(session)
        await _api_keys(session)
        await session.commit()
    await refresh(sessions, StaticSourceSettings(), offline=True, force=True)


@dataclass
class World:
    """Every row the filters can see, loaded once."""

    tables: dict[type[Any], list[Any]] = field(default_factory=dict)
    served: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    current_entries: dict[int, list[db.LeaderboardEntry]] = field(default_factory=lambda: defaultdict(list))

    def rows(self, table: type[Any]) -> list[Any]:
        return self.tables[table]

    def by_id(self, table: type[Any]) -> dict[int, Any]:
        return {row.id: row for row in self.tables[table]}

    def one(self, table: type[Any], **values: Any) -> Any:
        (row,) = [r for r in self.tables[table] if all(getattr(r, k) == v for k, v in values.items())]
        return row

    @property
    def today(self) -> date:
        return date.today()

    def architecture(self, class_name: str | None) -> db.ModelArchitecture | None:
        return next((a for a in self.tables[db.ModelArchitecture] if a.class_name == class_name), None)

    def decimal(self, value: str) -> Decimal:
        return Decimal(value)


TABLES = (
    db.Engine,
    db.EngineVersion,
    db.ModelArchitecture,
    db.CompatibilityEdge,
    db.ParserRule,
    db.Model,
    db.License,
    db.Provider,
    db.ProviderModel,
    db.Hardware,
    db.HardwarePrice,
    db.Job,
    db.Benchmark,
    db.LeaderboardEntry,
    db.LeaderboardSnapshot,
    db.ApiKey,
    db.ApiKeyEvent,
)


async def load(session: AsyncSession) -> World:
    world = World()
    for table in TABLES:
        world.tables[table] = list((await session.scalars(select(table))).all())
    for edge in world.rows(db.CompatibilityEdge):
        world.served[edge.engine_version_id].add(edge.architecture_id)
    latest: dict[int, db.LeaderboardSnapshot] = {}
    for snapshot in world.rows(db.LeaderboardSnapshot):
        best = latest.get(snapshot.source_id)
        if best is None or (snapshot.fetched_at, snapshot.id) > (best.fetched_at, best.id):
            latest[snapshot.source_id] = snapshot
    current = {snapshot.id for snapshot in latest.values()}
    for entry in world.rows(db.LeaderboardEntry):
        if entry.snapshot_id in current:
            world.current_entries[entry.benchmark_id].append(entry)
    return world
