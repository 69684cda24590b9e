"""Catalogue inputs the generated filter test does not reach: the `endpoints` argument of the runtime
lookup, bounds given the wrong way round, price tiers written through the API, and the class guard
behind the endpoints bug (every array column uses PostgreSQL's ARRAY, which has `contains`)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import postgresql

from budgraph import db
from budgraph.kit.db import RequestSession
from budgraph.kit.ids import to_global_id
from tests import factories
from tests.conftest import GraphQLClient


def test_every_array_column_is_a_postgresql_array() -> None:
    generic = [
        f"{table.name}.{column.name}"
        for table in db.Base.metadata.tables.values()
        for column in table.columns
        if "ARRAY" in type(column.type).__name__ and not isinstance(column.type, postgresql.ARRAY)
    ]
    assert generic == []


COMPATIBLE = """
query ($endpoints: [Endpoint!]) {
  compatibleEngineVersions(architecture: "LlamaForCausalLM", endpoints: $endpoints) {
    nodes { engineVersion { version endpoints } }
  }
}
"""


async def test_compatible_versions_by_endpoints(session: RequestSession, client: GraphQLClient) -> None:
    vllm = await factories.engine(session, "vllm")
    llama = await factories.architecture(session, "LlamaForCausalLM")
    for version, endpoints in (("0.9.0", ["CHAT"]), ("0.10.0", ["CHAT", "EMBEDDING"]), ("0.11.0", [])):
        await factories.edge(
            session, await factories.version(session, vllm, version, endpoints=endpoints), llama
        )
    await session.commit()

    async def versions(endpoints: list[str] | None) -> list[str]:
        data = await client.data(COMPATIBLE, {"endpoints": endpoints})
        return [n["engineVersion"]["version"] for n in data["compatibleEngineVersions"]["nodes"]]

    assert await versions(["CHAT"]) == ["0.10.0", "0.9.0"]
    assert await versions(["CHAT", "EMBEDDING"]) == ["0.10.0"]
    assert await versions(None) == ["0.11.0", "0.10.0", "0.9.0"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ('{ hardware(filter: {minMemoryGb: "80", maxMemoryGb: "40"}) { totalCount } }', "minMemoryGb"),
        ('{ hardwarePrices(filter: {minOnDemandPerHour: "3", maxOnDemandPerHour: "1"}) { totalCount } }',
         "minOnDemandPerHour"),
        ('{ hardwarePrices(filter: {asOf: "2025-01-01", currentOnly: true}) { totalCount } }', "currentOnly"),
        ('{ providerModels(filter: {minInputPerMillion: "2", maxInputPerMillion: "1"}) { totalCount } }',
         "minInputPerMillion"),
        ('{ providerModels(filter: {minOutputPerMillion: "2", maxOutputPerMillion: "1"}) { totalCount } }',
         "minOutputPerMillion"),
    ],
)  # fmt: skip
async def test_bounds_the_wrong_way_round_are_refused(client: GraphQLClient, query: str, field: str) -> None:
    body = await client.execute(query)
    assert body["data"] is None
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in body["errors"]] == [
        ("BAD_USER_INPUT", field)
    ]


CREATE_MODEL = """
mutation ($input: CreateProviderModelInput!) {
  createProviderModel(input: $input) { modelId pricePerQuery priceTiers { aboveInputTokens inputPerMillion outputPerMillion } }
}
"""
UPDATE_MODEL = """
mutation ($id: ID!, $input: UpdateProviderModelInput!) { updateProviderModel(id: $id, input: $input) { priceTiers { aboveInputTokens } } }
"""


async def test_per_query_and_long_prompt_prices_through_the_api(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    provider = await factories.provider(session, "anthropic")
    await session.commit()
    base: dict[str, Any] = {"providerId": to_global_id("Provider", provider.id), "mode": "CHAT"}
    tiers = [
        {"aboveInputTokens": 200000, "inputPerMillion": "6", "outputPerMillion": "22.5"},
        {"aboveInputTokens": 128000, "inputPerMillion": "4.5"},
    ]
    created = await client.data(
        CREATE_MODEL,
        {"input": {**base, "modelId": "claude-sonnet-4", "priceTiers": tiers}},
        token=writer_token,
    )
    assert created["createProviderModel"]["priceTiers"] == [
        {"aboveInputTokens": 128000, "inputPerMillion": "4.5", "outputPerMillion": None},
        {"aboveInputTokens": 200000, "inputPerMillion": "6", "outputPerMillion": "22.5"},
    ]
    rerank = await client.data(
        CREATE_MODEL,
        {"input": {**base, "modelId": "rerank-v3.5", "mode": "RERANK", "pricePerQuery": "0.002"}},
        token=writer_token,
    )
    assert rerank["createProviderModel"]["pricePerQuery"] == "0.002"

    for bad, field in (
        ([{"aboveInputTokens": 0, "inputPerMillion": "1"}], "priceTiers[0].aboveInputTokens"),
        ([{"aboveInputTokens": 10, "inputPerMillion": "1"}, {"aboveInputTokens": 10, "outputPerMillion": "2"}],
         "priceTiers[1].aboveInputTokens"),
        ([{"aboveInputTokens": 10}], "priceTiers[0]"),
        ([{"aboveInputTokens": 10, "inputPerMillion": "-1"}], "priceTiers[0].inputPerMillion"),
    ):  # fmt: skip
        body = await client.execute(
            CREATE_MODEL, {"input": {**base, "modelId": "x", "priceTiers": bad}}, token=writer_token
        )
        assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in body["errors"]] == [
            ("BAD_USER_INPUT", field)
        ]
    model = await session.scalar(
        select(db.ProviderModel.id).where(db.ProviderModel.model_id == "claude-sonnet-4")
    )
    assert model is not None
    cleared = await client.data(
        UPDATE_MODEL,
        {"id": to_global_id("ProviderModel", model), "input": {"priceTiers": []}},
        token=writer_token,
    )
    assert cleared["updateProviderModel"]["priceTiers"] == []
