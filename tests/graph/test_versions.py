"""Version order: equal versions are one version, and "latest" is the highest final release."""

from __future__ import annotations

import pytest
from sqlalchemy import func, literal, select
from sqlalchemy.exc import IntegrityError

from budgraph import db
from budgraph.kit.db import RequestSession
from budgraph.kit.ids import to_global_id
from budgraph.kit.versions import (
    InvalidVersionString,
    is_final_key,
    is_prerelease,
    parse_version,
    version_key,
)
from budgraph.seeds.service import seed
from tests import factories
from tests.conftest import GraphQLClient

ORDERED = [
    "0.9.dev1", "0.9a1.dev1", "0.9a1", "0.9b2", "0.9rc1.dev3", "0.9rc1", "0.9", "0.9+local.1",
    "0.9+local.10", "0.9.post1.dev1", "0.9.post1", "0.10.0-rc.1", "0.10.0rc2", "0.10.0", "0.10.0.post2",
    "0.10.1", "1.0.0-alpha.1", "1.0.0-beta.2", "1.0.0", "2!0.1",
]  # fmt: skip


def test_the_key_orders_as_pep_440_and_equal_versions_share_it() -> None:
    keys = [version_key(v) for v in ORDERED]
    assert sorted(ORDERED, key=parse_version) == ORDERED
    assert sorted(keys) == keys
    assert len(set(keys)) == len(keys)
    assert version_key("0.10") == version_key("0.10.0") == version_key("v0.10.0") == version_key("0.10.0.0")
    assert version_key("1.0.0-rc.1") == version_key("1.0.0rc1")
    finals = [v for v in ORDERED if not is_prerelease(v)]
    assert finals == ["0.9", "0.9+local.1", "0.9+local.10", "0.9.post1", "0.10.0", "0.10.0.post2", "0.10.1",
                      "1.0.0", "2!0.1"]  # fmt: skip


@pytest.mark.parametrize("raw", ["1.2.3.4.5.6.7.8.9", "1.1234567890", "1.0rc12345678901", "latest"])
def test_versions_the_key_cannot_order_are_refused(raw: str) -> None:
    with pytest.raises(InvalidVersionString):
        version_key(raw)


async def test_postgresql_tells_final_releases_apart(session: RequestSession) -> None:
    for raw in ORDERED:
        final = await session.scalar(select(is_final_key(literal(version_key(raw)))))
        assert final is (not is_prerelease(raw)), raw


CREATE = """
mutation ($input: CreateEngineVersionInput!) {
  createEngineVersion(input: $input) { id version containerImage }
}
"""


async def test_equal_versions_are_one_version(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    # given
    vllm = await factories.engine(session, "vllm")
    await session.commit()
    base = {
        "engineId": to_global_id("Engine", vllm.id),
        "deviceArchitecture": "CUDA",
        "containerImage": "v:1",
    }

    # when: 0.10.0, then the same again, then equal spellings and a different image
    first = await client.data(CREATE, {"input": {**base, "version": "0.10.0"}}, token=writer_token)
    again = await client.data(CREATE, {"input": {**base, "version": "0.10.0"}}, token=writer_token)
    spellings = [
        await client.execute(CREATE, {"input": {**base, "version": v}}, token=writer_token)
        for v in ("0.10", "v0.10.0", "0.10.0.0")
    ]
    other_image = await client.execute(
        CREATE, {"input": {**base, "version": "0.10.0", "containerImage": "v:2"}}, token=writer_token
    )

    # then
    assert again == first
    for body in spellings:
        assert body["data"] is None
        assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in body["errors"]] == [
            ("CONFLICT", "version")
        ]
        assert "same version as the existing '0.10.0'" in body["errors"][0]["message"]
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in other_image["errors"]] == [
        ("CONFLICT", "containerImage")
    ]
    assert await session.scalar(select(func.count()).select_from(db.EngineVersion)) == 1
    # and PostgreSQL itself refuses a second row with an equal version
    with pytest.raises(IntegrityError):
        async with session.begin_nested():
            await factories.version(session, vllm, "0.10")


LATEST = """
query ($engine: String!, $device: DeviceArchitecture, $pre: Boolean!) {
  latestEngineVersion(engine: $engine, deviceArchitecture: $device, includePrereleases: $pre) { version }
  engine(slug: $engine) { latestVersion(deviceArchitecture: $device, includePrereleases: $pre) { version } }
}
"""


async def _latest(
    client: GraphQLClient, engine: str, pre: bool, device: str | None = "CUDA"
) -> list[str | None]:
    data = await client.data(LATEST, {"engine": engine, "device": device, "pre": pre})
    answers = [data["latestEngineVersion"], data["engine"]["latestVersion"]]
    return [answer["version"] if answer else None for answer in answers]


async def test_pre_releases_do_not_win_latest(session: RequestSession, client: GraphQLClient) -> None:
    # given
    vllm = await factories.engine(session, "vllm")
    for version in ["0.10.0", "0.11.0rc1", "1.0.0-rc.1", "0.12.0.dev2", "0.9.1.post1"]:
        await factories.version(session, vllm, version)
    await factories.version(session, vllm, "0.13.0", status="deprecated")
    fresh = await factories.engine(session, "fresh")
    for version in ["2.0.0-beta.1", "2.0.0-rc.2"]:
        await factories.version(session, fresh, version)
    await session.commit()

    # then: the highest final release, as pip chooses; pre-releases when asked for
    assert await _latest(client, "vllm", pre=False) == ["0.10.0", "0.10.0"]
    assert await _latest(client, "vllm", pre=True) == ["1.0.0-rc.1", "1.0.0-rc.1"]
    # and, as pip does, a pre-release when there is no final release at all
    assert await _latest(client, "fresh", pre=False) == ["2.0.0-rc.2", "2.0.0-rc.2"]
    assert await _latest(client, "fresh", pre=False, device="ROCM") == [None, None]


COMPATIBLE = """
query ($version: String!) {
  compatibleEngineVersions(architecture: "LlamaForCausalLM", version: $version) {
    nodes { engineVersion { version } }
  }
}
"""


async def test_a_version_argument_finds_the_equal_version(
    session: RequestSession, client: GraphQLClient
) -> None:
    vllm = await factories.engine(session, "vllm")
    llama = await factories.architecture(session, "LlamaForCausalLM")
    await factories.edge(session, await factories.version(session, vllm, "0.10.0"), llama)
    await session.commit()
    for asked in ("0.10", "0.10.0", "v0.10.0"):
        data = await client.data(COMPATIBLE, {"version": asked})
        assert data["compatibleEngineVersions"]["nodes"] == [{"engineVersion": {"version": "0.10.0"}}]
    assert await client.error_codes(COMPATIBLE, {"version": "not a version"}) == ["BAD_USER_INPUT"]


async def test_the_seeder_takes_an_equal_version_as_the_same_row(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    # given: the seed's vllm 0.8.0 for CUDA, already created by an operator as "0.8"
    await seed(session)
    await session.commit()
    vllm = await session.scalar(select(db.Engine).where(db.Engine.slug == "vllm"))
    assert vllm is not None
    seeded = await session.scalar(
        select(db.EngineVersion).where(
            db.EngineVersion.engine_id == vllm.id, db.EngineVersion.version == "0.8.0"
        )
    )
    assert seeded is not None
    await session.delete(seeded)
    await session.commit()
    created = await client.data(
        CREATE,
        {"input": {"engineId": to_global_id("Engine", vllm.id), "version": "0.8", "deviceArchitecture": "CUDA",
                   "containerImage": "registry.local/vllm:0.8"}},
        token=writer_token,
    )  # fmt: skip

    # when
    await seed(session)
    await session.commit()

    # then: one row, the operator's
    rows = (
        await session.scalars(
            select(db.EngineVersion).where(
                db.EngineVersion.engine_id == vllm.id,
                db.EngineVersion.version_key == version_key("0.8.0"),
                db.EngineVersion.device_architecture == "CUDA",
            )
        )
    ).all()
    assert [to_global_id("EngineVersion", row.id) for row in rows] == [created["createEngineVersion"]["id"]]
