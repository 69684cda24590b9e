"""The benchmark's registry: the real seed plus synthetic rows at a chosen scale, loaded with COPY.

`budgraph migrate upgrade` and `budgraph seed` build the real registry (registry version 1); the
generator then adds rows into the real tables in one transaction, with a change-log row for every
registry entity it creates or updates and the registry version moved past them, as if operators and
refreshes had written them: a runtime syncing this registry sees every generated row.

A database is rebuilt only when it is missing or was made by another generator version: a marker
table in a schema of its own (`bench.generator`, outside `public`, so PostGraphile does not expose
it) holds the version, the scale, what the scenarios ask about (the probe) and how long it took.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import make_url
from sqlalchemy.dialects import postgresql

from bench import catalogue, population
from bench.changelog import CHANGE_COLUMNS, KindWriter, created_rows
from bench.scale import Scale
from budgraph import db
from budgraph.leaderboards.repository import restand_statement
from budgraph.registry import row_counts

ROOT = Path(__file__).resolve().parents[1]
# Bump when the generated rows change: databases of another version are rebuilt.
GENERATOR_VERSION = 6
SEED = 7
CHANGES_PER_VERSION = 1_000
TABLES = [
    "engine",
    "engine_version",
    "model_architecture",
    "compatibility_edge",
    "hardware",
    "hardware_price",
    "model",
    "leaderboard_source",
    "leaderboard_snapshot",
    "benchmark",
]


@dataclass(frozen=True)
class Probe:
    """What the scenarios ask about, chosen by the generator so that every answer has data."""

    architecture: str
    architecture_pk: int
    parser_model: str
    engine: str
    since: int
    benchmark: str
    benchmark_pk: int
    snapshot_pk: int
    model_uri: str
    model_pk: int


@dataclass(frozen=True)
class BenchDatabase:
    url: str  # SQLAlchemy URL (postgresql+asyncpg://...)
    dsn: str  # libpq / asyncpg DSN
    probe: Probe
    seconds: float  # how long generation took (when it was built)
    rebuilt: bool
    counts: dict[str, int]


def plain_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def database_name(scale: Scale) -> str:
    return f"budgraph_bench_{scale.name}"


async def _marker(admin_dsn: str, name: str) -> dict[str, Any] | None:
    admin = await asyncpg.connect(admin_dsn)
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return None
    finally:
        await admin.close()
    connection = await asyncpg.connect(make_url(admin_dsn).set(database=name).render_as_string(False))
    try:
        if not await connection.fetchval("SELECT to_regclass('bench.generator') IS NOT NULL"):
            return None
        row = await connection.fetchrow("SELECT version, scale, probe, seconds, counts FROM bench.generator")
        return dict(row) if row else None
    finally:
        await connection.close()


# The tables the scenarios read, which VACUUM must leave all-visible (index-only scans need it).
READ_TABLES = ("model", "leaderboard_entry", "change_log", "compatibility_edge", "engine_version")


async def settle(dsn: str, log: Any = print) -> None:
    """Leave the database as autovacuum leaves a registry at rest, before every run: every table
    vacuumed and analyzed. A VACUUM that ran while another transaction was open cannot mark pages
    all-visible, and the planner then turns index-only scans into heap reads (a 1x dashboard page
    read 8,620 buffers instead of 997): such a table is named, as the run would measure it."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("VACUUM (ANALYZE)")
        rows = await connection.fetch(
            "SELECT relname, relallvisible, relpages FROM pg_class WHERE relname = ANY($1::text[])",
            list(READ_TABLES),
        )
    finally:
        await connection.close()
    behind = sorted(r["relname"] for r in rows if r["relallvisible"] < 0.95 * r["relpages"])
    if behind:
        log(
            f"  warning: {', '.join(behind)} not all-visible after VACUUM: a transaction open elsewhere"
            " holds the horizon back, and this run reads their heap pages"
        )


async def ensure(admin_url: str, redis_url: str, scale: Scale, log: Any = print) -> BenchDatabase:
    """The database of ``scale``, built unless a current one exists."""
    admin_dsn = plain_dsn(admin_url)
    name = database_name(scale)
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    marker = await _marker(admin_dsn, name)
    if marker and marker["version"] == GENERATOR_VERSION and marker["scale"] == scale.name:
        # The data stands; the schema is the code's (a newer migration adds its indexes here).
        migrate(url, redis_url)
        probe = Probe(**json.loads(marker["probe"]))
        log(f"  {name}: current (generator v{GENERATOR_VERSION}, built in {marker['seconds']:.1f} s)")
        await settle(plain_dsn(url), log)
        return BenchDatabase(
            url, plain_dsn(url), probe, marker["seconds"], False, json.loads(marker["counts"])
        )
    log(f"  {name}: building ({'generator changed' if marker else 'missing'})")
    started = time.perf_counter()
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    migrate_and_seed(url, redis_url)
    seeded = time.perf_counter()
    probe, counts = await generate(plain_dsn(url), scale, log)
    seconds = time.perf_counter() - started
    await write_marker(plain_dsn(url), scale, probe, seconds, counts)
    await settle(plain_dsn(url), log)
    log(
        f"  {name}: migrated and seeded in {seeded - started:.1f} s, generated in {seconds - (seeded - started):.1f} s"
    )
    return BenchDatabase(url, plain_dsn(url), probe, seconds, True, counts)


def migrate(url: str, redis_url: str) -> None:
    """Bring the schema to the code's head (``budgraph migrate upgrade``)."""
    _budgraph(url, redis_url, ["migrate", "upgrade"])


def migrate_and_seed(url: str, redis_url: str) -> None:
    """The real registry, by budgraph's own commands (as an operator builds one)."""
    for command in (["migrate", "upgrade"], ["seed"]):
        _budgraph(url, redis_url, command)


def _budgraph(url: str, redis_url: str, command: list[str]) -> None:
    env = {**os.environ, "BUDGRAPH_DATABASE_URL": url, "BUDGRAPH_REDIS_URL": redis_url}
    subprocess.run(
        [sys.executable, "-m", "budgraph", *command],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def write_marker(dsn: str, scale: Scale, probe: Probe, seconds: float, counts: dict[str, int]) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(
            "CREATE SCHEMA IF NOT EXISTS bench;"
            " CREATE TABLE IF NOT EXISTS bench.generator (version integer NOT NULL, scale text NOT NULL,"
            " probe jsonb NOT NULL, seconds double precision NOT NULL, counts jsonb NOT NULL,"
            " built_at timestamptz NOT NULL DEFAULT now()); TRUNCATE bench.generator"
        )
        await connection.execute(
            "INSERT INTO bench.generator (version, scale, probe, seconds, counts) VALUES ($1, $2, $3, $4, $5)",
            GENERATOR_VERSION,
            scale.name,
            json.dumps(asdict(probe)),
            seconds,
            json.dumps(counts),
        )
    finally:
        await connection.close()


async def _copy(connection: asyncpg.Connection, table: str, rows: list[dict[str, Any]]) -> None:
    if rows:
        columns = list(rows[0])
        await connection.copy_records_to_table(
            table, records=(tuple(row[c] for c in columns) for row in rows), columns=columns
        )


async def _existing(connection: asyncpg.Connection) -> catalogue.Existing:
    rules: dict[int, tuple[list[str], list[str]]] = {}
    for row in await connection.fetch(
        "SELECT engine_id, array_agg(DISTINCT parser) FILTER (WHERE rule_type = 'tool') AS tool,"
        " array_agg(DISTINCT parser) FILTER (WHERE rule_type = 'reasoning') AS reasoning"
        " FROM parser_rule GROUP BY engine_id"
    ):
        rules[row["engine_id"]] = (
            list(row["tool"] or catalogue.TOOL_PARSERS),
            list(row["reasoning"] or catalogue.REASONING_PARSERS),
        )
    versions = await connection.fetch(
        "SELECT engine_id, version_key, device_architecture FROM engine_version"
    )
    counts: dict[int, int] = {}
    for row in versions:
        counts[row["engine_id"]] = counts.get(row["engine_id"], 0) + 1
    return catalogue.Existing(
        engines={r["slug"]: r["id"] for r in await connection.fetch("SELECT slug, id FROM engine")},
        version_keys={tuple(row) for row in versions},  # type: ignore[misc]
        version_counts=counts,
        architectures={
            r["class_name"]: r["id"]
            for r in await connection.fetch("SELECT class_name, id FROM model_architecture")
        },
        rule_parsers=rules,
        skus={r["sku"] for r in await connection.fetch("SELECT sku FROM hardware")},
        hardware=[tuple(r) for r in await connection.fetch("SELECT id, device_architecture FROM hardware")],  # type: ignore[misc]
        providers=[tuple(r) for r in await connection.fetch("SELECT id, slug FROM provider ORDER BY id")],  # type: ignore[misc]
        price_keys={
            tuple(r)  # type: ignore[misc]
            for r in await connection.fetch(
                "SELECT hardware_id, provider_id, region, instance_type, as_of FROM hardware_price"
            )
        },
    )


STAND_ALL = str(
    restand_statement(None).compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
)

# The tables that grow with the scale: their indexes are built once after the load (a sort), not
# row by row during it; unique ones check their rows when they are built, so nothing goes unchecked.
BULK_TABLES = ["model", "leaderboard_entry", "change_log", "compatibility_edge"]


async def _drop_secondary_indexes(connection: asyncpg.Connection, tables: list[str]) -> list[str]:
    """Drop the indexes of ``tables`` that back no constraint; their definitions, to build again."""
    rows = await connection.fetch(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public'"
        " AND i.tablename = ANY($1::text[])"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
        tables,
    )
    for row in rows:
        await connection.execute(f'DROP INDEX "{row["indexname"]}"')
    return [row["indexdef"] for row in rows]


async def check_references(connection: asyncpg.Connection, tables: list[str]) -> None:
    """Every foreign key of ``tables`` holds (one anti-join per key); else the load fails."""
    keys = await connection.fetch(
        "SELECT c.conname, child.relname AS child, ca.attname AS column, parent.relname AS parent,"
        " pa.attname AS referenced"
        " FROM pg_constraint c JOIN pg_class child ON child.oid = c.conrelid"
        " JOIN pg_class parent ON parent.oid = c.confrelid"
        " JOIN pg_attribute ca ON ca.attrelid = c.conrelid AND ca.attnum = c.conkey[1]"
        " JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = c.confkey[1]"
        " WHERE c.contype = 'f' AND child.relname = ANY($1::text[])",
        tables,
    )
    for key in keys:
        orphans = await connection.fetchval(
            f'SELECT count(*) FROM "{key["child"]}" c WHERE c."{key["column"]}" IS NOT NULL AND NOT EXISTS'
            f' (SELECT 1 FROM "{key["parent"]}" p WHERE p."{key["referenced"]}" = c."{key["column"]}")'
        )
        if orphans:
            raise RuntimeError(f"{orphans} rows break the foreign key {key['conname']}")


def _versioned(rows: Iterable[Any], first_version: int) -> Iterator[tuple[int, Any]]:
    """Each item with the registry version of its transaction (CHANGES_PER_VERSION per version)."""
    for n, row in enumerate(rows):
        yield first_version + n // CHANGES_PER_VERSION, row


class Laps:
    """How long each phase of a generation took (said at the end: where the time goes)."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.laps: list[tuple[str, float]] = []

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps.append((name, now - self.started))
        self.started = now

    def __str__(self) -> str:
        return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.laps)


async def generate(dsn: str, scale: Scale, log: Any = None) -> tuple[Probe, dict[str, int]]:
    """Add ``scale``'s synthetic rows to the migrated, seeded database at ``dsn`` (one transaction)."""
    rng = random.Random(SEED)
    laps = Laps()
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("SET synchronous_commit = off; SET maintenance_work_mem = '512MB'")
        async with connection.transaction():
            dropped = await _drop_secondary_indexes(connection, BULK_TABLES)
            # Foreign keys are checked by a trigger per row (three index lookups for each leaderboard
            # entry); replica mode skips those triggers during the load, and `check_references`
            # then checks every reference of the loaded tables at once. CHECK, NOT NULL and unique
            # constraints are not triggers: COPY enforces them as it loads.
            await connection.execute("SET LOCAL session_replication_role = replica")
            probe = await _load(connection, rng, scale, laps)
            await connection.execute("SET LOCAL session_replication_role = origin")
            for definition in dropped:
                await connection.execute(definition)
            laps.lap("indexes")
            await check_references(connection, [*TABLES, "leaderboard_entry"])
            laps.lap("references checked")
            # Replica mode skipped the row-count triggers too: the counted tables' counts as loaded.
            for table in sorted(row_counts.COUNTED):
                await connection.execute("DELETE FROM row_count_delta WHERE table_name = $1", table)
                await connection.execute(
                    f"INSERT INTO row_count_delta (table_name, delta) SELECT '{table}', count(*) FROM {table}"
                )
        for table in ("model", "leaderboard_entry", "change_log", "compatibility_edge", "engine_version"):
            await connection.execute(f"VACUUM (ANALYZE) {table}")
        await connection.execute("ANALYZE")
        laps.lap("vacuum and analyze")
        if log is not None:
            log(f"  phases: {laps}")
        counts = {
            table: await connection.fetchval(f"SELECT count(*) FROM {table}")
            for table in [*TABLES, "parser_rule", "license", "leaderboard_entry", "change_log"]
        }
        return probe, counts
    finally:
        await connection.close()


async def _load(connection: asyncpg.Connection, rng: random.Random, scale: Scale, laps: Laps) -> Probe:
    existing = await _existing(connection)
    ids = {t: await connection.fetchval(f"SELECT coalesce(max(id), 0) + 1 FROM {t}") for t in TABLES}
    base_version = await connection.fetchval("SELECT version FROM registry_state FOR UPDATE")

    engines = catalogue.engines(rng, existing, scale.engines, ids["engine"])
    engine_ids = {**existing.engines, **{row["slug"]: row["id"] for row in engines}}
    versions = catalogue.engine_versions(
        rng, existing, engine_ids, scale.engine_versions, ids["engine_version"]
    )
    archs = catalogue.architectures(rng, existing, scale.architectures, ids["model_architecture"])
    arch_ids = {**existing.architectures, **{row["class_name"]: row["id"] for row in archs}}
    edges = catalogue.edges(
        rng, [row["id"] for row in versions], sorted(arch_ids.values()), ids["compatibility_edge"]
    )
    hardware = catalogue.hardware(rng, existing, scale.hardware, ids["hardware"])
    hardware_ids = [hw_id for hw_id, _ in existing.hardware] + [row["id"] for row in hardware]
    prices = catalogue.hardware_prices(
        rng, existing, hardware_ids, scale.hardware_prices, ids["hardware_price"]
    )
    licenses = [r["id"] for r in await connection.fetch("SELECT id FROM license ORDER BY id")]
    popular = sorted(
        arch_ids, key=lambda name: (name not in POPULAR, POPULAR.index(name) if name in POPULAR else 0, name)
    )
    models = population.models(rng, scale, popular, licenses, ids["model"])
    boards = population.leaderboards(scale, ids, population.generated_at())

    catalogue_rows = [
        (db.Engine, "engine", engines),
        (db.ModelArchitecture, "model_architecture", archs),
        (db.EngineVersion, "engine_version", versions),
        (db.CompatibilityEdge, "compatibility_edge", edges),
        (db.Hardware, "hardware", hardware),
        (db.HardwarePrice, "hardware_price", prices),
    ]
    for _, table, rows in catalogue_rows:
        await _copy(connection, table, rows)
    laps.lap("catalogue and models built, catalogue copied")
    await _copy(connection, "model", models)
    laps.lap("models copied")
    await _copy(connection, "leaderboard_source", boards.sources)
    await _copy(connection, "leaderboard_snapshot", boards.snapshots)
    await _copy(connection, "benchmark", boards.benchmarks)
    await connection.copy_records_to_table(
        "leaderboard_entry",
        records=population.entries(rng, scale, boards, models),
        columns=population.ENTRY_COLUMNS,
    )
    # The standings, as refreshes store them (one UPDATE over every snapshot, before the indexes).
    await connection.execute(STAND_ALL)

    laps.lap("leaderboards built and copied")
    catalogue_version = base_version + 1
    changes: list[Iterable[tuple[Any, ...]]] = []
    for cls, _, rows in [*catalogue_rows, (db.Benchmark, "benchmark", boards.benchmarks)]:
        changes.append(created_rows(KindWriter(cls), catalogue_version, rows))
    model_writer = KindWriter(db.Model)
    first_model_version = catalogue_version + 1
    changes.append(
        model_writer.created(
            version,
            {**row, "status": "registered"} if row["id"] - models[0]["id"] < scale.model_updates else row,
        )
        for version, row in _versioned(models, first_model_version)
    )
    first_update_version = (
        first_model_version + (len(models) + CHANGES_PER_VERSION - 1) // CHANGES_PER_VERSION
    )
    updated = models[: scale.model_updates]
    changes.append(
        model_writer.updated(
            version,
            row["id"],
            {"source_kind": row["source_kind"], "uri": row["uri"]},
            {"status": "registered"},
            {"status": "ready"},
        )
        for version, row in _versioned(updated, first_update_version)
    )
    final_version = first_update_version + (len(updated) + CHANGES_PER_VERSION - 1) // CHANGES_PER_VERSION - 1
    await connection.copy_records_to_table(
        "change_log", records=(row for batch in changes for row in batch), columns=CHANGE_COLUMNS
    )
    laps.lap("change log built and copied")
    await connection.execute("UPDATE registry_state SET version = $1, updated_at = now()", final_version)
    for table in TABLES:
        await connection.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 1) FROM {table}))"
        )

    benchmark = boards.benchmarks[0]
    return Probe(
        architecture=PROBE_ARCHITECTURE,
        architecture_pk=arch_ids[PROBE_ARCHITECTURE],
        parser_model=PROBE_PARSER_MODEL,
        engine=PROBE_ENGINE,
        # A runtime that synced after the models were registered: the updates follow.
        since=first_update_version - 1,
        benchmark=benchmark["key"],
        benchmark_pk=benchmark["id"],
        snapshot_pk=boards.current_snapshot(benchmark["source_key"]),
        model_uri=models[0]["uri"],
        model_pk=models[0]["id"],
    )


PROBE_ARCHITECTURE = "Qwen2ForCausalLM"
PROBE_PARSER_MODEL = "Qwen/Qwen2.5-7B-Instruct"
PROBE_ENGINE = "vllm"
# The architectures most Hub models have, most first (the rest follow by name).
POPULAR = [
    "LlamaForCausalLM",
    "Qwen2ForCausalLM",
    "MistralForCausalLM",
    "Qwen3ForCausalLM",
    "Gemma2ForCausalLM",
    "Phi3ForCausalLM",
    "GPT2LMHeadModel",
]
