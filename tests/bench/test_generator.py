"""The generator: given a migrated, seeded registry and a tiny scale, when it runs, then every table
holds the requested totals, the rows keep the invariants the schema cannot state, and the change
log and the registry version account for every generated entity."""

from __future__ import annotations

import asyncpg
import pytest

from bench import data
from bench.scale import TINY
from budgraph.kit.versions import version_key
from budgraph.releases import shipped_facts
from budgraph.seeds.files import records

SEEDED_ARCHITECTURES = {r["class_name"] for r in records("architectures")} | {
    a.class_name for s in shipped_facts.load() for a in s.facts.architectures
}


async def _fetchval(dsn: str, sql: str) -> object:
    connection = await asyncpg.connect(dsn)
    try:
        return await connection.fetchval(sql)
    finally:
        await connection.close()


async def test_every_table_holds_the_requested_totals(bench_database: data.BenchDatabase) -> None:
    per = TINY.entries_per_benchmark_snapshot
    assert {k: v for k, v in bench_database.counts.items() if k != "compatibility_edge"} | {
        "parser_rule": 63,
        "license": 92,
    } == {
        "engine": TINY.engines,
        "engine_version": TINY.engine_versions,
        # the seed's own (its file and the shipped releases') when they are more than the scale asks
        "model_architecture": max(TINY.architectures, len(SEEDED_ARCHITECTURES)),
        "hardware": TINY.hardware,
        "hardware_price": TINY.hardware_prices,
        "model": TINY.models,
        "leaderboard_source": TINY.sources,
        "leaderboard_snapshot": TINY.sources * TINY.snapshots_per_source,
        "benchmark": TINY.sources * TINY.benchmarks_per_source,
        "leaderboard_entry": per * TINY.benchmark_snapshots,
        "parser_rule": 63,
        "license": 92,
        "change_log": bench_database.counts["change_log"],
    }


async def test_each_generated_version_serves_half_of_the_architectures(
    bench_database: data.BenchDatabase,
) -> None:
    connection = await asyncpg.connect(bench_database.dsn)
    try:
        counts = await connection.fetch(
            "SELECT count(c.id) AS edges FROM engine_version v LEFT JOIN compatibility_edge c"
            " ON c.engine_version_id = v.id WHERE v.origin = 'api' GROUP BY v.id"
        )
        versions = await connection.fetch("SELECT version, version_key FROM engine_version")
        engines_with_versions = await connection.fetchval(
            "SELECT count(DISTINCT engine_id) FROM engine_version"
        )
    finally:
        await connection.close()
    assert {row["edges"] for row in counts} == {max(TINY.architectures, len(SEEDED_ARCHITECTURES)) // 2}
    assert all(row["version_key"] == version_key(row["version"]) for row in versions)
    assert engines_with_versions == TINY.engines


async def test_uris_are_unique_in_any_casing_and_look_like_the_hubs(
    bench_database: data.BenchDatabase,
) -> None:
    dsn = bench_database.dsn
    assert await _fetchval(dsn, "SELECT count(DISTINCT lower(uri)) FROM model") == TINY.models
    assert (
        await _fetchval(
            dsn,
            r"SELECT count(*) FROM model WHERE uri !~ '^[a-z-]+-[0-9]+/[a-z]+-[a-z]+-[0-9_]+b-[a-z]+(-[0-9]+)?$'",
        )
        == 0
    )
    assert (
        await _fetchval(dsn, "SELECT count(*) FROM model WHERE license_id IS NULL OR architecture IS NULL")
        == 0
    )


async def test_the_change_log_accounts_for_every_generated_entity(bench_database: data.BenchDatabase) -> None:
    connection = await asyncpg.connect(bench_database.dsn)
    try:
        version = await connection.fetchval("SELECT version FROM registry_state")
        newest = await connection.fetchval("SELECT max(registry_version) FROM change_log")
        unlogged = await connection.fetchval(
            "SELECT count(*) FROM model m WHERE NOT EXISTS (SELECT 1 FROM change_log c"
            " WHERE c.entity_kind = 'Model' AND c.entity_id = m.id AND c.operation = 'create')"
        )
        edges = await connection.fetchval(
            "SELECT count(*) FROM compatibility_edge e WHERE NOT EXISTS (SELECT 1 FROM change_log c"
            " WHERE c.entity_kind = 'CompatibilityEdge' AND c.entity_id = e.id)"
        )
        updates = await connection.fetch(
            "SELECT c.after, m.status FROM change_log c JOIN model m ON m.id = c.entity_id"
            " WHERE c.entity_kind = 'Model' AND c.operation = 'update'"
        )
        sequence_next = await connection.fetchval(
            "SELECT nextval('model_id_seq') > (SELECT max(id) FROM model)"
        )
    finally:
        await connection.close()
    assert version == newest
    assert (unlogged, edges) == (0, 0)
    assert len(updates) == TINY.model_updates
    assert {(row["after"], row["status"]) for row in updates} == {('{"status": "ready"}', "ready")}
    assert sequence_next
    assert bench_database.probe.since < version


async def test_every_entry_stands_as_the_leaderboard_window_ranks_it(
    bench_database: data.BenchDatabase,
) -> None:
    """The load stores each entry's standing, as refreshes do: rank() and 100 * (1 - percent_rank())
    by score in the benchmark's direction within its snapshot."""
    window = (
        "SELECT count(*) FILTER (WHERE e.position IS DISTINCT FROM w.position"
        " OR e.percentile IS DISTINCT FROM w.percentile OR e.ranked_among IS DISTINCT FROM w.among) AS wrong,"
        " count(*) AS entries,"
        " count(DISTINCT w.percentile) AS percentiles"
        " FROM leaderboard_entry e JOIN (SELECT x.id, rank() OVER o AS position,"
        " 100 * (1 - percent_rank() OVER o) AS percentile, count(*) OVER (PARTITION BY x.benchmark_id, x.snapshot_id) AS among"
        " FROM leaderboard_entry x JOIN benchmark b ON b.id = x.benchmark_id"
        " WINDOW o AS (PARTITION BY x.benchmark_id, x.snapshot_id"
        " ORDER BY CASE WHEN b.higher_is_better THEN x.score ELSE -x.score END DESC)) w ON w.id = e.id"
    )
    connection = await asyncpg.connect(bench_database.dsn)
    try:
        row = await connection.fetchrow(window)
    finally:
        await connection.close()
    assert (row["wrong"], row["entries"]) == (
        0,
        TINY.entries_per_benchmark_snapshot * TINY.benchmark_snapshots,
    )
    assert row["percentiles"] == TINY.entries_per_benchmark_snapshot  # no ties at this scale: all differ


async def test_every_index_of_the_schema_is_there_after_the_load(
    bench_database: data.BenchDatabase, database_url: str
) -> None:
    """The load drops the big tables' indexes and builds them again: the schema ends as migrated."""
    sql = "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname"

    async def definitions(dsn: str) -> list[str]:
        connection = await asyncpg.connect(dsn)
        try:
            return [row["indexdef"] for row in await connection.fetch(sql)]
        finally:
            await connection.close()

    assert await definitions(bench_database.dsn) == await definitions(data.plain_dsn(database_url))


async def test_a_broken_reference_fails_the_load(bench_database: data.BenchDatabase) -> None:
    """References are checked after the load (its triggers are off): an orphan is caught."""
    connection = await asyncpg.connect(bench_database.dsn)
    try:
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute("SET LOCAL session_replication_role = replica")
        await connection.execute(
            "INSERT INTO leaderboard_entry (benchmark_id, snapshot_id, model_id, raw_model_name, score, source)"
            " SELECT benchmark_id, snapshot_id, 10000000, 'orphan', 1, source FROM leaderboard_entry LIMIT 1"
        )
        await connection.execute("SET LOCAL session_replication_role = origin")
        with pytest.raises(
            RuntimeError, match="1 rows break the foreign key fk_leaderboard_entry_model_id_model"
        ):
            await data.check_references(connection, ["leaderboard_entry"])
        await transaction.rollback()
        await data.check_references(connection, ["leaderboard_entry"])
    finally:
        await connection.close()
