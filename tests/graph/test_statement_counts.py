"""Every relationship goes through per-request loaders: the number of SQL statements per query
does not grow with the number of rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert

from budgraph import db
from budgraph.kit.db import RequestSession, StatementCounter
from budgraph.kit.versions import version_key
from tests.conftest import GraphQLClient

DEEP = """
{
  engines(first: 5) {
    nodes {
      slug
      latestVersion(deviceArchitecture: CUDA) { version }
      versions(first: 100) {
        totalCount
        nodes {
          version engine { slug }
          architectures(first: 10) { nodes { className engineVersions(first: 3) { nodes { version engine { name } } } } }
          models(first: 5) { nodes { uri license { key } architecture { family } } }
        }
      }
    }
  }
  models(first: 100) { nodes { uri license { key kind } architecture { className } leaderboardAliases } }
  modelArchitectures(first: 100) { nodes { className engineVersions(first: 5) { totalCount nodes { version } } } }
}
"""


async def _base(session: RequestSession) -> tuple[list[db.Engine], list[db.ModelArchitecture], db.License]:
    engines = [db.Engine(slug=f"engine-{i}", name=f"Engine {i}") for i in range(5)]
    archs = [db.ModelArchitecture(class_name=f"Arch{i}ForCausalLM", family=f"family{i}") for i in range(10)]
    lic = db.License(key="apache-2.0", name="Apache 2.0", kind="permissive", commercial_use=True)
    session.add_all([*engines, *archs, lic])
    await session.flush()
    return engines, archs, lic


async def _grow(
    session: RequestSession,
    base: tuple[list[db.Engine], list[db.ModelArchitecture], db.License],
    start: int,
    stop: int,
) -> None:
    """Engine versions and models ``start..stop``, every version serving every architecture."""
    engines, archs, lic = base
    versions = [
        {
            "engine_id": engines[i % 5].id,
            "version": f"1.{i}.0",
            "version_key": version_key(f"1.{i}.0"),
            "device_architecture": "CUDA",
            "container_image": f"img:{i}",
        }
        for i in range(start, stop)
    ]
    version_ids = (
        await session.scalars(insert(db.EngineVersion).returning(db.EngineVersion.id), versions)
    ).all()
    await session.execute(
        insert(db.CompatibilityEdge),
        [{"engine_version_id": vid, "architecture_id": arch.id} for vid in version_ids for arch in archs],
    )
    await session.execute(
        insert(db.Model),
        [
            {
                "uri": f"org/model-{i}",
                "source_kind": "huggingface",
                "architecture": archs[i % 10].class_name,
                "license_id": lic.id,
            }
            for i in range(start, stop)
        ],
    )
    await session.commit()


async def _statements(client: GraphQLClient, statements: StatementCounter, rows: int) -> int:
    statements.reset()
    data = await client.data(DEEP)
    assert len(data["models"]["nodes"]) == min(rows, 100)
    assert sum(engine["versions"]["totalCount"] for engine in data["engines"]["nodes"]) == rows
    return statements.count


async def test_statement_count_is_the_same_for_5_and_500_rows(
    session: RequestSession, client_with: Any, statements: StatementCounter
) -> None:
    # A stress query, far above the cost limit and the deadline that guard the API (50,518
    # objects): both lifted for this test, which counts statements, not seconds.
    client = await client_with(max_query_cost=1_000_000, request_timeout_seconds=300)
    base = await _base(session)
    await _grow(session, base, 0, 5)
    with_5 = await _statements(client, statements, 5)
    await _grow(session, base, 5, 500)
    with_500 = await _statements(client, statements, 500)
    assert with_5 == with_500
    # one statement per list / count / loader batch, whatever the rows: a small fixed number
    assert with_5 <= 20, statements.statements


PAGED = """
query ($models: String, $versions: String, $last: Int) {
  models(first: 20, after: $models) { pageInfo { endCursor } nodes { uri license { key } } }
  engines(first: 5) {
    nodes {
      versions(first: 3, after: $versions) { totalCount pageInfo { endCursor } nodes { version } }
      backward: versions(last: $last, before: $versions) { nodes { version } }
    }
  }
}
"""


async def _paged_statements(client: GraphQLClient, statements: StatementCounter, rows: int) -> int:
    first = await client.data(PAGED, {"last": 2})
    variables = {
        "models": first["models"]["pageInfo"]["endCursor"],
        "versions": first["engines"]["nodes"][0]["versions"]["pageInfo"]["endCursor"],
        "last": 2,
    }
    statements.reset()
    data = await client.data(PAGED, variables)
    assert sum(engine["versions"]["totalCount"] for engine in data["engines"]["nodes"]) == rows
    assert len(data["models"]["nodes"]) == min(20, max(rows - 20, 0))
    return statements.count


async def test_statement_count_with_cursors_is_the_same_for_5_and_500_rows(
    session: RequestSession, client: GraphQLClient, statements: StatementCounter
) -> None:
    base = await _base(session)
    await _grow(session, base, 0, 5)
    with_5 = await _paged_statements(client, statements, 5)
    await _grow(session, base, 5, 500)
    with_500 = await _paged_statements(client, statements, 500)
    assert with_5 == with_500
    assert with_5 <= 10, statements.statements


UNCOUNTED = """
{
  models(first: 2) { pageInfo { hasNextPage } nodes { uri } }
  engines(first: 5) { nodes { versions(first: 1) { pageInfo { hasNextPage } nodes { version } } } }
}
"""

COUNTED_THROUGH_FRAGMENTS = """
fragment Sized on ModelConnection { totalCount }
{
  models(first: 2) { ...Sized nodes { uri } }
  engines(first: 5) {
    nodes { versions(first: 1) { ... on EngineVersionConnection { total: totalCount } nodes { version } } }
  }
}
"""


async def test_lists_are_counted_only_when_total_count_is_selected(
    session: RequestSession, client: GraphQLClient, statements: StatementCounter
) -> None:
    # given 5 models and 5 engines of one version each
    base = await _base(session)
    await _grow(session, base, 0, 5)

    # when totalCount is not selected
    statements.reset()
    data = await client.data(UNCOUNTED)

    # then no statement counts rows, and page info comes from the pages themselves
    assert not [s for s in statements.statements if "count(" in s], statements.statements
    assert data["models"]["pageInfo"] == {"hasNextPage": True}
    assert [e["versions"]["pageInfo"] for e in data["engines"]["nodes"]] == [{"hasNextPage": False}] * 5

    # when it is selected through a fragment spread and an inline fragment
    statements.reset()
    data = await client.data(COUNTED_THROUGH_FRAGMENTS)

    # then the root list reads its stored count (kit/row_counts.py), and the nested lists are
    # counted once, in one batch
    assert len([s for s in statements.statements if "count(" in s]) == 1, statements.statements
    assert len([s for s in statements.statements if "row_count_delta" in s]) == 1, statements.statements
    assert data["models"]["totalCount"] == 5
    assert [e["versions"]["total"] for e in data["engines"]["nodes"]] == [1] * 5


RELEASES = """
{
  engineVersions(first: 100) {
    nodes {
      version
      quantizationSupport { method engineVersion { version } }
      upstreamRelease {
        version engine { slug }
        architectures(first: 5) { totalCount nodes { task architecture { className } release { version } } }
        droppedArchitectures { className }
        quantization { method }
        engineVersions { version }
      }
    }
  }
  upstreamReleases(first: 100) { nodes { version architectures(first: 3) { nodes { task } } } }
  quantizationSupport(first: 100, deviceArchitecture: CUDA, computeCapability: "9.0") {
    totalCount nodes { method engineVersion { version engine { slug } } }
  }
  hardware(first: 20) {
    nodes { sku quantizationSupport(first: 5) { totalCount nodes { method engineVersion { version } } } }
  }
}
"""


async def _grow_releases(session: RequestSession, engine: db.Engine, start: int, stop: int) -> None:
    """Releases ``start..stop`` of ``engine``, each packaged by a CUDA build of its own."""
    from budgraph.releases import service
    from budgraph.releases.facts import (
        ArchitectureFact,
        DroppedArchitecture,
        QuantizationFact,
        ReleaseFacts,
        SourceRef,
    )

    for i in range(start, stop):
        number = f"1.{i}.0"
        ref = SourceRef(f"e-{number}.tar.gz", number, "registry.py", "MODELS")
        facts = ReleaseFacts(
            engine=engine.slug,
            version=number,
            artifact=f"e-{number}.tar.gz",
            architectures=tuple(
                ArchitectureFact(f"Arch{a}ForCausalLM", ("CHAT",), "generate", True, None, False, None, ref)
                for a in range(6)
            ),
            dropped=(DroppedArchitecture(f"Old{i}ForCausalLM", ref),),
            quantization=tuple(
                QuantizationFact(m, "CUDA", c, ("bfloat16",), ref) for m, c in (("fp8", "8.9"), ("awq", None))
            ),
        )
        release = (await service.record_release(session, facts, source_url="https://example.com/r")).release
        version = db.EngineVersion(
            engine_id=engine.id,
            version=number,
            version_key=version_key(number),
            device_architecture="CUDA",
            container_image=f"img:{i}",
        )
        session.add(version)
        await session.flush()
        await service.apply_release(session, version, release)
    for i in range(start, stop):
        session.add(
            db.Hardware(
                sku=f"gpu-{i}",
                name=f"GPU {i}",
                vendor="v",
                device_architecture="CUDA",
                compute_capability="9.0" if i % 2 else "8.0",
            )
        )
    await session.commit()


async def test_release_and_quantization_statements_do_not_grow_with_rows(
    session: RequestSession, client_with: Any, statements: StatementCounter
) -> None:
    client = await client_with(max_query_cost=1_000_000, request_timeout_seconds=300)
    engine = db.Engine(slug="eng", name="Eng")
    session.add(engine)
    await session.flush()

    async def count(rows: int) -> int:
        statements.reset()
        data = await client.data(RELEASES)
        assert len(data["upstreamReleases"]["nodes"]) == rows
        assert data["quantizationSupport"]["totalCount"] == 2 * rows
        return statements.count

    await _grow_releases(session, engine, 0, 3)
    with_3 = await count(3)
    await _grow_releases(session, engine, 3, 40)
    with_40 = await count(40)
    assert with_3 == with_40
    assert with_3 <= 25, statements.statements
