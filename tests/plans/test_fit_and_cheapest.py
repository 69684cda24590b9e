"""`Hardware.modelsThatFit` and `Model.cheapestDeployment`, built on the plans of
test_deployment_plans.py's registry; a page of them reads a constant number of statements."""

from __future__ import annotations

from typing import Any

from budgraph.kit.db import RequestSession, StatementCounter
from tests import factories
from tests.conftest import GraphQLClient
from tests.plans.test_deployment_plans import LLAMA_8B, given_registry

FIT = """
query ($first: Int!, $after: String, $devices: Int! = 1) {
  hardwareSku(sku: "nvidia-h100-sxm5-80gb") {
    modelsThatFit(contextLength: 8192, devices: $devices, first: $first, after: $after) {
      nodes { model { uri } plan { quantization devices offer { perHour } } }
      endCursor hasNextPage examined
    }
  }
}
"""
CHEAPEST = """
query ($by: CheapestBy!) {
  model(uri: "meta-llama/Llama-3.1-8B-Instruct") {
    cheapestDeployment(contextLength: 8192, by: $by) {
      engineVersion { engine { slug } } hardware { sku } quantization devices
      offer { provider { slug } perHour } decodeTokensPerSecond dollarsPerMillionOutputTokens
    }
  }
}
"""
PAGE = """
query ($first: Int!) {
  models(first: $first) {
    nodes { uri cheapestDeployment(contextLength: 4096) { hardware { sku } devices offer { perHour } } }
  }
}
"""


def _fits(data: dict[str, Any]) -> dict[str, Any]:
    page: dict[str, Any] = data["hardwareSku"]["modelsThatFit"]
    return page


async def test_models_that_fit_a_sku_page_by_uri_each_with_its_cheapest_plan(
    session: RequestSession, client: GraphQLClient
) -> None:
    await given_registry(session)

    first = _fits(await client.data(FIT, {"first": 2}))
    # DeepSeek-V3 (689 GB) cannot fit one device even at 4 bits; the model not extracted has no size.
    # Llama 70B fits one H100 only as a 4-bit AWQ variant (38.2 GB); the 8B as stored, at 3.50.
    assert first == {
        "nodes": [
            {
                "model": {"uri": "meta-llama/Llama-3.1-70B-Instruct"},
                "plan": {"quantization": "awq", "devices": 1, "offer": {"perHour": "3.5"}},
            },
            {
                "model": {"uri": "meta-llama/Llama-3.1-8B-Instruct"},
                "plan": {"quantization": None, "devices": 1, "offer": {"perHour": "3.5"}},
            },
        ],
        "endCursor": "meta-llama/Llama-3.1-8B-Instruct",
        "hasNextPage": True,
        "examined": 3,
    }
    rest = _fits(await client.data(FIT, {"first": 2, "after": first["endCursor"]}))
    assert [node["model"]["uri"] for node in rest["nodes"]] == [
        "mistralai/Mistral-7B-v0.1",
        "mistralai/Mixtral-8x7B-Instruct-v0.1",
    ]
    assert (rest["hasNextPage"], rest["endCursor"]) == (False, "mistralai/Mixtral-8x7B-Instruct-v0.1")

    # with two devices Mixtral also fits as stored (46.7 GB a device, on the 8x instance at 23.92),
    # but its 4-bit variant on one device at 3.50 is cheaper
    both = _fits(await client.data(FIT, {"first": 10, "devices": 2}))
    (mixtral,) = [n for n in both["nodes"] if n["model"]["uri"].startswith("mistralai/Mixtral")]
    assert mixtral["plan"] == {"quantization": "awq", "devices": 1, "offer": {"perHour": "3.5"}}

    errors = await client.error_codes(FIT, {"first": 0})
    assert errors == ["BAD_USER_INPUT"]


async def test_the_cheapest_deployment_per_hour_or_per_token(
    session: RequestSession, client: GraphQLClient
) -> None:
    await given_registry(session)

    hourly = (await client.data(CHEAPEST, {"by": "PER_HOUR"}))["model"]["cheapestDeployment"]
    # only the H100 has prices: one device at 3.50 (vLLM's plan as stored comes first among equals)
    assert hourly == {
        "engineVersion": {"engine": {"slug": "vllm"}},
        "hardware": {"sku": "nvidia-h100-sxm5-80gb"},
        "quantization": None,
        "devices": 1,
        "offer": {"provider": {"slug": "runpod"}, "perHour": "3.5"},
        "decodeTokensPerSecond": 195.5,
        "dollarsPerMillionOutputTokens": "4.9726",
    }
    per_token = (await client.data(CHEAPEST, {"by": "PER_MILLION_OUTPUT_TOKENS"}))["model"][
        "cheapestDeployment"
    ]
    # the 4-bit variant reads the fewest bytes a token: 3,350e9 / (4,949,716,048 + 1,073,741,824)
    assert (per_token["quantization"], per_token["decodeTokensPerSecond"]) == ("awq", 556.2)
    assert per_token["dollarsPerMillionOutputTokens"] == "1.7481"


async def test_a_page_of_cheapest_deployments_reads_the_same_statements_for_more_models(
    session: RequestSession, client: GraphQLClient, statements: StatementCounter
) -> None:
    await given_registry(session)

    async def count(first: int) -> int:
        statements.reset()
        data = await client.data(PAGE, {"first": first})
        assert len(data["models"]["nodes"]) == first
        return statements.count

    await count(2)  # the process reads the parser rules once, then keeps them
    few = await count(2)
    for n in range(20):
        await factories.model(session, f"zz/llama-{n:02d}", **LLAMA_8B)
    await session.commit()
    many = await count(25)
    assert many == few, "\n".join(s[:150] for s in statements.statements)
