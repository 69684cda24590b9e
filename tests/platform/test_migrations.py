"""Migrations upgrade and downgrade cleanly, and match the ORM tables exactly."""

from __future__ import annotations

import asyncio
import os

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from budgraph.db import Base
from budgraph.kit.migrate import downgrade, upgrade
from tests.conftest import Servers, _drop_database, _recreate_database


async def _tables(url: str) -> set[str]:
    from sqlalchemy import make_url

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    finally:
        await connection.close()
    return {row["tablename"] for row in rows}


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_upgrade_downgrade_upgrade(servers: Servers) -> None:
    url = await _recreate_database(servers.admin_database_url, f"budgraph_migrations_{os.getpid()}")
    await asyncio.to_thread(upgrade, url)
    assert set(Base.metadata.tables) | {"alembic_version"} == await _tables(url)

    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_diff) == []
    finally:
        await engine.dispose()

    await asyncio.to_thread(downgrade, url, "base")
    assert await _tables(url) == {"alembic_version"}
    await asyncio.to_thread(upgrade, url)
    assert "engine_version" in await _tables(url)
    await _drop_database(servers.admin_database_url, f"budgraph_migrations_{os.getpid()}")


async def test_0005_merges_hub_models_that_differ_only_in_case(servers: Servers) -> None:
    from alembic.script import ScriptDirectory
    from sqlalchemy import make_url

    from budgraph.kit.migrate import alembic_config

    name = f"budgraph_migration_0005_{os.getpid()}"
    url = await _recreate_database(servers.admin_database_url, name)
    before = ScriptDirectory.from_config(alembic_config(url)).get_revision("0005").down_revision
    assert isinstance(before, str)
    await asyncio.to_thread(upgrade, url, before)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        # given two casings of one Hub id (the later one extracted), an upload of the same name,
        # and a job, leaderboard entry and (normalised) alias on the duplicate
        ids = {}
        for uri, source, status in [
            ("qwen/qwen2.5-7b-instruct", "huggingface", "registered"),
            ("Qwen/Qwen2.5-7B-Instruct", "huggingface", "ready"),
            ("QWEN/Qwen2.5-7B-Instruct", "huggingface", "registered"),
            ("qwen/Qwen2.5-7B-Instruct", "upload", "registered"),
        ]:
            ids[(uri, source)] = await connection.fetchval(
                "INSERT INTO model (uri, source_kind, status, modality) VALUES ($1, $2, $3, 'text') RETURNING id",
                uri,
                source,
                status,
            )
        duplicate = ids[("qwen/qwen2.5-7b-instruct", "huggingface")]
        kept = ids[("Qwen/Qwen2.5-7B-Instruct", "huggingface")]
        await connection.execute(
            "INSERT INTO job (kind, model_id, target, dedupe_key, status, progress, step, attempts, requested_by)"
            " VALUES ('extract', $1, 'x', 'extract:1:main', 'succeeded', 100, 'done', 1, 'test')",
            duplicate,
        )
        await connection.execute(
            "INSERT INTO model_alias (alias, model_id, created_by) VALUES ('qwen2.5-7b', $1, 'test')",
            duplicate,
        )
        source = await connection.fetchval(
            "INSERT INTO leaderboard_source (key, name, enabled) VALUES ('lmarena', 'LMArena', true) RETURNING id"
        )
        snapshot = await connection.fetchval(
            "INSERT INTO leaderboard_snapshot (source_id, fetched_at, entry_count) VALUES ($1, now(), 1) RETURNING id",
            source,
        )
        benchmark = await connection.fetchval(
            "INSERT INTO benchmark (key, name, higher_is_better) VALUES ('lmarena:x', 'x', true) RETURNING id"
        )
        await connection.execute(
            "INSERT INTO leaderboard_entry (benchmark_id, snapshot_id, model_id, raw_model_name, score, source)"
            " VALUES ($1, $2, $3, 'qwen2.5-7b', 1, 'lmarena')",
            benchmark,
            snapshot,
            duplicate,
        )
        await connection.close()

        await asyncio.to_thread(upgrade, url)

        connection = await asyncpg.connect(dsn)
        rows = await connection.fetch("SELECT id, uri, source_kind FROM model ORDER BY id")
        assert [(row["id"], row["uri"], row["source_kind"]) for row in rows] == [
            (kept, "Qwen/Qwen2.5-7B-Instruct", "huggingface"),
            (ids[("qwen/Qwen2.5-7B-Instruct", "upload")], "qwen/Qwen2.5-7B-Instruct", "upload"),
        ]
        assert await connection.fetchval("SELECT model_id FROM job") == kept
        assert await connection.fetchval("SELECT model_id FROM leaderboard_entry") == kept
        alias = await connection.fetchrow("SELECT alias, key, model_id FROM model_alias")
        assert tuple(alias) == ("qwen2.5-7b", "qwen2.5-7b", kept)
        with pytest.raises(asyncpg.UniqueViolationError):
            await connection.execute(
                "INSERT INTO model (uri, source_kind, status, modality) VALUES ('QWEN/QWEN2.5-7B-INSTRUCT',"
                " 'huggingface', 'registered', 'text')"
            )
        await connection.close()

        await asyncio.to_thread(downgrade, url, before)
        connection = await asyncpg.connect(dsn)
        columns = await connection.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'model_alias'"
        )
        assert "key" not in {row["column_name"] for row in columns}
    finally:
        await connection.close()
        await _drop_database(servers.admin_database_url, name)


async def test_0009_backfills_the_standings_the_reads_computed(servers: Servers) -> None:
    from sqlalchemy import make_url

    name = f"budgraph_migration_0009_{os.getpid()}"
    url = await _recreate_database(servers.admin_database_url, name)
    await asyncio.to_thread(upgrade, url, "0008")
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        # given an old and a current snapshot, a higher- and a lower-is-better benchmark, ties
        source = await connection.fetchval(
            "INSERT INTO leaderboard_source (key, name, enabled) VALUES ('arena', 'Arena', true) RETURNING id"
        )
        snapshots = [
            await connection.fetchval(
                "INSERT INTO leaderboard_snapshot (source_id, fetched_at, entry_count)"
                " VALUES ($1, now() - make_interval(days => $2), 0) RETURNING id",
                source,
                days,
            )
            for days in (7, 0)
        ]
        benchmarks = {
            higher: await connection.fetchval(
                "INSERT INTO benchmark (key, source_key, name, higher_is_better)"
                " VALUES ($1, 'arena', 'x', $2) RETURNING id",
                f"arena:{higher}",
                higher,
            )
            for higher in (True, False)
        }
        scores = {snapshots[0]: ["3", "1", "2"], snapshots[1]: ["5", "7", "5", "6.5", "-1", "7"]}
        for benchmark in benchmarks.values():
            for snapshot, values in scores.items():
                for n, score in enumerate(values):
                    await connection.execute(
                        "INSERT INTO leaderboard_entry (benchmark_id, snapshot_id, raw_model_name, score, source)"
                        " VALUES ($1, $2, $3, $4::numeric, 'arena')",
                        benchmark,
                        snapshot,
                        f"m{n}",
                        score,
                    )
        # what the reads computed before 0009: a window over the benchmark's current snapshot
        legacy = {
            (higher, row["raw_model_name"]): (row["position"], row["percentile"])
            for higher, benchmark in benchmarks.items()
            for row in await connection.fetch(
                "SELECT raw_model_name, rank() OVER w AS position, 100 * (1 - percent_rank() OVER w) AS percentile"
                f" FROM leaderboard_entry WHERE benchmark_id = $1 AND snapshot_id = $2"
                f" WINDOW w AS (ORDER BY score {'DESC NULLS LAST' if higher else 'ASC'})",
                benchmark,
                snapshots[1],
            )
        }
        await connection.close()

        # when
        await asyncio.to_thread(upgrade, url)

        # then the current entries stand as the reads ranked them, and the old ones within theirs
        connection = await asyncpg.connect(dsn)
        rows = await connection.fetch(
            "SELECT b.higher_is_better, e.snapshot_id, e.raw_model_name, e.position, e.percentile"
            " FROM leaderboard_entry e JOIN benchmark b ON b.id = e.benchmark_id"
        )
        assert {
            (row["higher_is_better"], row["raw_model_name"]): (row["position"], row["percentile"])
            for row in rows
            if row["snapshot_id"] == snapshots[1]
        } == legacy
        assert legacy[(True, "m1")] == legacy[(True, "m5")] == (1, 100.0)
        assert legacy[(False, "m4")] == (1, 100.0)
        assert legacy[(True, "m3")] == (3, 60.0)
        assert sorted(
            (row["higher_is_better"], row["raw_model_name"], row["position"], row["percentile"])
            for row in rows
            if row["snapshot_id"] == snapshots[0]
        ) == [
            (False, "m0", 3, 0.0),
            (False, "m1", 1, 100.0),
            (False, "m2", 2, 50.0),
            (True, "m0", 1, 100.0),
            (True, "m1", 3, 0.0),
            (True, "m2", 2, 50.0),
        ]
        await connection.close()

        # and it goes back down to 0008 and up again
        await asyncio.to_thread(downgrade, url, "0008")
        connection = await asyncpg.connect(dsn)
        columns = await connection.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'leaderboard_entry'"
        )
        assert not {"position", "percentile"} & {row["column_name"] for row in columns}
        await connection.close()
        await asyncio.to_thread(upgrade, url)
        connection = await asyncpg.connect(dsn)
        assert await connection.fetchval("SELECT count(*) FROM leaderboard_entry WHERE position IS NULL") == 0
        among = await connection.fetch("SELECT snapshot_id, ranked_among FROM leaderboard_entry")
        assert {(row["snapshot_id"], row["ranked_among"]) for row in among} == {
            (snapshots[0], 3),
            (snapshots[1], 6),
        }
    finally:
        await connection.close()
        await _drop_database(servers.admin_database_url, name)


async def test_0015_starts_the_publication_mark_before_the_first_change(servers: Servers) -> None:
    from sqlalchemy import make_url

    name = f"budgraph_migration_0015_{os.getpid()}"
    url = await _recreate_database(servers.admin_database_url, name)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        # given a registry with changes logged before 0015
        await asyncio.to_thread(upgrade, url, "0014")
        connection = await asyncpg.connect(dsn)
        await connection.execute(
            "INSERT INTO change_log (registry_version, entity_kind, entity_id, operation, changed_fields, actor)"
            " VALUES (1, 'Engine', 1, 'create', '{slug}', 'seed')"
        )
        await connection.close()
        # when it upgrades, then nothing is marked published: turning events on publishes the log
        await asyncio.to_thread(upgrade, url, "0015")
        connection = await asyncpg.connect(dsn)
        rows = await connection.fetch("SELECT id, change_id, published_at FROM change_publication")
        assert [tuple(row) for row in rows] == [(1, 0, None)]
        with pytest.raises(asyncpg.CheckViolationError):
            await connection.execute("INSERT INTO change_publication (id, change_id) VALUES (2, 0)")
        await connection.close()
        # and it goes back down to 0014
        await asyncio.to_thread(downgrade, url, "0014")
        assert "change_publication" not in await _tables(url)
        assert "change_log" in await _tables(url)
    finally:
        await _drop_database(servers.admin_database_url, name)
