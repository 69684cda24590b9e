"""Providers and the cloud models they serve: lists, filters, ordering, node lookup, mutations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from budgraph import db
from budgraph.kit.db import RequestSession, StatementCounter
from budgraph.kit.ids import to_global_id
from tests import factories
from tests.conftest import GraphQLClient

PROVIDERS = """
query ($filter: ProviderFilter, $orderBy: ProviderOrder) {
  providers(filter: $filter, orderBy: $orderBy) { totalCount nodes { slug name kind homepageUrl } }
}
"""

PROVIDER_MODELS = """
query ($filter: ProviderModelFilter, $orderBy: ProviderModelOrder, $first: Int, $after: String,
       $last: Int, $before: String) {
  providerModels(filter: $filter, orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes { modelId }
  }
}
"""

MODEL_DETAILS = """
query ($filter: ProviderModelFilter) {
  providerModels(filter: $filter) {
    nodes {
      modelId mode inputPerMillion outputPerMillion cacheReadPerMillion cacheWritePerMillion
      maxInputTokens maxOutputTokens supportsFunctionCalling supportsVision supportsReasoning
      supportsPromptCaching supportsResponseSchema deprecationDate deprecated
      provider { slug }
    }
  }
}
"""

PROVIDER_WITH_CHILDREN = """
query ($slug: String!, $modelFilter: ProviderModelFilter, $modelOrder: ProviderModelOrder) {
  provider(slug: $slug) {
    slug
    models(filter: $modelFilter, orderBy: $modelOrder, first: 2) {
      totalCount pageInfo { hasNextPage } nodes { modelId outputPerMillion }
    }
    hardwarePrices(filter: {regions: ["us-east-1"]}, orderBy: {field: ON_DEMAND, direction: DESC}) {
      totalCount nodes { onDemandPerHour region hardware { sku } provider { slug } }
    }
  }
}
"""

LOOKUPS = """
query ($providerId: ID, $slug: String, $modelId: ID!, $nodeId: ID!) {
  provider(id: $providerId, slug: $slug) { slug }
  providerModel(id: $modelId) { modelId provider { slug } }
  node(id: $nodeId) { __typename id ... on ProviderModel { modelId } ... on Provider { slug } }
}
"""

CREATE_PROVIDER = """
mutation ($input: CreateProviderInput!) {
  createProvider(input: $input) { id slug name kind homepageUrl origin editedFields }
}
"""

UPDATE_PROVIDER = """
mutation ($id: ID!, $input: UpdateProviderInput!) {
  updateProvider(id: $id, input: $input) { slug name kind homepageUrl origin editedFields }
}
"""

CREATE_MODEL = """
mutation ($input: CreateProviderModelInput!) {
  createProviderModel(input: $input) {
    id modelId mode inputPerMillion outputPerMillion cacheReadPerMillion cacheWritePerMillion
    maxInputTokens supportsVision deprecated origin editedFields provider { slug }
  }
}
"""

UPDATE_MODEL = """
mutation ($id: ID!, $input: UpdateProviderModelInput!) {
  updateProviderModel(id: $id, input: $input) {
    modelId inputPerMillion outputPerMillion supportsVision maxInputTokens editedFields
  }
}
"""

REGISTRY_VERSION = "{ registryVersion }"

NESTED = """
{
  providers(first: 100) {
    nodes {
      slug
      models(first: 10, orderBy: {field: INPUT_PRICE}) { totalCount nodes { modelId provider { slug } } }
      hardwarePrices(first: 10) { totalCount nodes { onDemandPerHour hardware { sku } provider { slug } } }
    }
  }
  providerModels(first: 100) { nodes { modelId provider { name } } }
}
"""


def today() -> datetime:
    return datetime.now(UTC)


async def _catalogue(session: RequestSession) -> dict[str, db.ProviderModel]:
    """Two providers, five models with distinct prices, limits, flags and deprecation dates."""
    openai = await factories.provider(session, "openai", name="OpenAI")
    anthropic = await factories.provider(session, "anthropic", name="Anthropic")
    past = (today() - timedelta(days=30)).date()
    models = {
        "gpt-4o": await factories.provider_model(
            session,
            openai,
            "gpt-4o",
            input_per_million=Decimal("2.5"),
            output_per_million=Decimal("10"),
            max_input_tokens=128_000,
            supports_function_calling=True,
            supports_vision=True,
        ),
        "gpt-4o-mini": await factories.provider_model(
            session,
            openai,
            "gpt-4o-mini",
            input_per_million=Decimal("0.15"),
            output_per_million=Decimal("0.6"),
            max_input_tokens=128_000,
            supports_function_calling=True,
        ),
        "text-embedding-3-small": await factories.provider_model(
            session,
            openai,
            "text-embedding-3-small",
            mode="embedding",
            input_per_million=Decimal("0.02"),
            max_input_tokens=8_191,
        ),
        "claude-3-5-haiku": await factories.provider_model(
            session,
            anthropic,
            "claude-3-5-haiku",
            input_per_million=Decimal("0.8"),
            output_per_million=Decimal("4"),
            max_input_tokens=200_000,
            supports_function_calling=True,
            deprecation_date=past,
        ),
        "claude-opus-4": await factories.provider_model(
            session,
            anthropic,
            "claude-opus-4",
            output_per_million=Decimal("75"),
            max_input_tokens=200_000,
            supports_reasoning=True,
            supports_vision=True,
        ),
    }
    await session.commit()
    return models


async def _model_ids(client: GraphQLClient, variables: dict[str, Any]) -> list[str]:
    data = await client.data(PROVIDER_MODELS, variables)
    return [node["modelId"] for node in data["providerModels"]["nodes"]]


async def test_providers_filter_by_kind_and_search_and_order(
    session: RequestSession, client: GraphQLClient
) -> None:
    # given
    await factories.provider(session, "openai", name="OpenAI", homepage_url="https://openai.com")
    await factories.provider(session, "openrouter", kind="gateway", name="OpenRouter")
    await factories.provider(session, "aws", kind="compute_cloud", name="Amazon Web Services")
    await session.commit()

    # when / then: default order is by slug
    data = await client.data(PROVIDERS)
    assert data["providers"] == {
        "totalCount": 3,
        "nodes": [
            {"slug": "aws", "name": "Amazon Web Services", "kind": "COMPUTE_CLOUD", "homepageUrl": None},
            {"slug": "openai", "name": "OpenAI", "kind": "MODEL_API", "homepageUrl": "https://openai.com"},
            {"slug": "openrouter", "name": "OpenRouter", "kind": "GATEWAY", "homepageUrl": None},
        ],
    }
    data = await client.data(
        PROVIDERS, {"filter": {"search": "OPEN"}, "orderBy": {"field": "NAME", "direction": "DESC"}}
    )
    assert [n["slug"] for n in data["providers"]["nodes"]] == ["openrouter", "openai"]
    data = await client.data(PROVIDERS, {"filter": {"kinds": ["GATEWAY", "COMPUTE_CLOUD"]}})
    assert [n["slug"] for n in data["providers"]["nodes"]] == ["aws", "openrouter"]
    data = await client.data(PROVIDERS, {"filter": {"search": "open", "kinds": ["MODEL_API"]}})
    assert [n["slug"] for n in data["providers"]["nodes"]] == ["openai"]


async def test_provider_models_filters(session: RequestSession, client: GraphQLClient) -> None:
    # given
    await _catalogue(session)

    # when / then
    assert await _model_ids(client, {}) == [
        "claude-3-5-haiku",
        "claude-opus-4",
        "gpt-4o",
        "gpt-4o-mini",
        "text-embedding-3-small",
    ]
    assert await _model_ids(client, {"filter": {"search": "GPT-4O"}}) == ["gpt-4o", "gpt-4o-mini"]
    assert await _model_ids(client, {"filter": {"providerSlugs": ["anthropic"]}}) == [
        "claude-3-5-haiku",
        "claude-opus-4",
    ]
    assert await _model_ids(client, {"filter": {"modes": ["EMBEDDING"]}}) == ["text-embedding-3-small"]
    # a price range: models without a known input price never match a maximum
    assert await _model_ids(client, {"filter": {"maxInputPerMillion": "0.8"}}) == [
        "claude-3-5-haiku",
        "gpt-4o-mini",
        "text-embedding-3-small",
    ]
    assert await _model_ids(client, {"filter": {"maxInputPerMillion": "0.79999999"}}) == [
        "gpt-4o-mini",
        "text-embedding-3-small",
    ]
    assert await _model_ids(client, {"filter": {"maxOutputPerMillion": "4"}}) == [
        "claude-3-5-haiku",
        "gpt-4o-mini",
    ]
    assert await _model_ids(client, {"filter": {"minContext": 128_001}}) == [
        "claude-3-5-haiku",
        "claude-opus-4",
    ]
    assert await _model_ids(client, {"filter": {"supportsVision": True}}) == ["claude-opus-4", "gpt-4o"]
    assert await _model_ids(client, {"filter": {"supportsReasoning": True}}) == ["claude-opus-4"]
    assert await _model_ids(client, {"filter": {"supportsFunctionCalling": False}}) == [
        "claude-opus-4",
        "text-embedding-3-small",
    ]
    assert await _model_ids(
        client, {"filter": {"includeDeprecated": False, "providerSlugs": ["anthropic"]}}
    ) == ["claude-opus-4"]
    assert await _model_ids(
        client, {"filter": {"supportsFunctionCalling": True, "maxInputPerMillion": 1, "minContext": 100_000}}
    ) == ["claude-3-5-haiku", "gpt-4o-mini"]


async def test_provider_models_ordering(session: RequestSession, client: GraphQLClient) -> None:
    # given
    await _catalogue(session)

    # when / then: unknown values sort last in both directions
    assert await _model_ids(client, {"orderBy": {"field": "INPUT_PRICE"}}) == [
        "text-embedding-3-small",
        "gpt-4o-mini",
        "claude-3-5-haiku",
        "gpt-4o",
        "claude-opus-4",
    ]
    assert await _model_ids(client, {"orderBy": {"field": "INPUT_PRICE", "direction": "DESC"}}) == [
        "gpt-4o",
        "claude-3-5-haiku",
        "gpt-4o-mini",
        "text-embedding-3-small",
        "claude-opus-4",
    ]
    assert await _model_ids(client, {"orderBy": {"field": "OUTPUT_PRICE", "direction": "DESC"}}) == [
        "claude-opus-4",
        "gpt-4o",
        "claude-3-5-haiku",
        "gpt-4o-mini",
        "text-embedding-3-small",
    ]
    assert await _model_ids(client, {"orderBy": {"field": "CONTEXT", "direction": "DESC"}}) == [
        "claude-3-5-haiku",
        "claude-opus-4",
        "gpt-4o",
        "gpt-4o-mini",
        "text-embedding-3-small",
    ]
    assert await _model_ids(client, {"orderBy": {"field": "MODEL_ID", "direction": "DESC"}}) == [
        "text-embedding-3-small",
        "gpt-4o-mini",
        "gpt-4o",
        "claude-opus-4",
        "claude-3-5-haiku",
    ]


async def test_provider_models_pagination(session: RequestSession, client: GraphQLClient) -> None:
    # given
    await _catalogue(session)

    # when
    first = await client.data(PROVIDER_MODELS, {"first": 2})
    second = await client.data(
        PROVIDER_MODELS, {"first": 2, "after": first["providerModels"]["pageInfo"]["endCursor"]}
    )
    third = await client.data(
        PROVIDER_MODELS, {"first": 2, "after": second["providerModels"]["pageInfo"]["endCursor"]}
    )
    backwards = await client.data(
        PROVIDER_MODELS, {"last": 2, "before": third["providerModels"]["pageInfo"]["startCursor"]}
    )

    # then
    pages = [first, second, third]
    assert [[n["modelId"] for n in page["providerModels"]["nodes"]] for page in pages] == [
        ["claude-3-5-haiku", "claude-opus-4"],
        ["gpt-4o", "gpt-4o-mini"],
        ["text-embedding-3-small"],
    ]
    assert [page["providerModels"]["totalCount"] for page in pages] == [5, 5, 5]
    assert [page["providerModels"]["pageInfo"]["hasNextPage"] for page in pages] == [True, True, False]
    assert [page["providerModels"]["pageInfo"]["hasPreviousPage"] for page in pages] == [False, True, True]
    assert [n["modelId"] for n in backwards["providerModels"]["nodes"]] == ["gpt-4o", "gpt-4o-mini"]
    assert await client.error_codes(PROVIDER_MODELS, {"first": 101}) == ["PAGE_SIZE_EXCEEDED"]


async def test_model_details_and_deprecated_relative_to_today(
    session: RequestSession, client: GraphQLClient
) -> None:
    # given: deprecation dates yesterday, today, tomorrow and none
    provider = await factories.provider(session, "mistral")
    on = today().date()
    for model_id, deprecation in [
        ("a-yesterday", on - timedelta(days=1)),
        ("b-today", on),
        ("c-tomorrow", on + timedelta(days=1)),
        ("d-never", None),
    ]:
        await factories.provider_model(session, provider, model_id, deprecation_date=deprecation)
    await factories.provider_model(
        session,
        provider,
        "e-priced",
        mode="completion",
        input_per_million=Decimal("0.00000125"),
        output_per_million=Decimal("1234567890.12345678"),
        cache_read_per_million=Decimal("0"),
        cache_write_per_million=Decimal("10.5"),
        max_input_tokens=32_768,
        max_output_tokens=4_096,
        supports_prompt_caching=True,
        supports_response_schema=True,
    )
    await session.commit()

    # when
    data = await client.data(MODEL_DETAILS)

    # then
    nodes = data["providerModels"]["nodes"]
    assert [(n["modelId"], n["deprecated"]) for n in nodes] == [
        ("a-yesterday", True),
        ("b-today", True),
        ("c-tomorrow", False),
        ("d-never", False),
        ("e-priced", False),
    ]
    assert nodes[4] == {
        "modelId": "e-priced",
        "mode": "COMPLETION",
        "inputPerMillion": "0.00000125",
        "outputPerMillion": "1234567890.12345678",
        "cacheReadPerMillion": "0",
        "cacheWritePerMillion": "10.5",
        "maxInputTokens": 32768,
        "maxOutputTokens": 4096,
        "supportsFunctionCalling": False,
        "supportsVision": False,
        "supportsReasoning": False,
        "supportsPromptCaching": True,
        "supportsResponseSchema": True,
        "deprecationDate": None,
        "deprecated": False,
        "provider": {"slug": "mistral"},
    }
    data = await client.data(MODEL_DETAILS, {"filter": {"includeDeprecated": False}})
    assert [n["modelId"] for n in data["providerModels"]["nodes"]] == ["c-tomorrow", "d-never", "e-priced"]


async def test_provider_with_models_and_hardware_prices(
    session: RequestSession, client: GraphQLClient
) -> None:
    # given
    await _catalogue(session)
    aws = await factories.provider(session, "aws", kind="compute_cloud")
    h100 = await factories.hardware(session, "nvidia-h100")
    l4 = await factories.hardware(session, "nvidia-l4")
    await factories.hardware_price(session, h100, aws, "6.88")
    await factories.hardware_price(session, l4, aws, "0.8048")
    await factories.hardware_price(session, l4, aws, "0.9", region="eu-west-1")
    await session.commit()

    # when
    openai = await client.data(
        PROVIDER_WITH_CHILDREN,
        {"slug": "openai", "modelFilter": {"modes": ["CHAT"]}, "modelOrder": {"field": "OUTPUT_PRICE"}},
    )
    cloud = await client.data(PROVIDER_WITH_CHILDREN, {"slug": "aws"})

    # then
    assert openai["provider"] == {
        "slug": "openai",
        "models": {
            "totalCount": 2,
            "pageInfo": {"hasNextPage": False},
            "nodes": [
                {"modelId": "gpt-4o-mini", "outputPerMillion": "0.6"},
                {"modelId": "gpt-4o", "outputPerMillion": "10"},
            ],
        },
        "hardwarePrices": {"totalCount": 0, "nodes": []},
    }
    assert cloud["provider"] == {
        "slug": "aws",
        "models": {"totalCount": 0, "pageInfo": {"hasNextPage": False}, "nodes": []},
        "hardwarePrices": {
            "totalCount": 2,
            "nodes": [
                {
                    "onDemandPerHour": "6.88",
                    "region": "us-east-1",
                    "hardware": {"sku": "nvidia-h100"},
                    "provider": {"slug": "aws"},
                },
                {
                    "onDemandPerHour": "0.8048",
                    "region": "us-east-1",
                    "hardware": {"sku": "nvidia-l4"},
                    "provider": {"slug": "aws"},
                },
            ],
        },
    }


async def test_lookups_by_id_slug_and_node(session: RequestSession, client: GraphQLClient) -> None:
    # given
    models = await _catalogue(session)
    anthropic = await session.get(db.Provider, models["claude-opus-4"].provider_id)
    assert anthropic is not None
    provider_id = to_global_id("Provider", anthropic.id)
    model_id = to_global_id("ProviderModel", models["gpt-4o"].id)

    # when
    by_id = await client.data(LOOKUPS, {"providerId": provider_id, "modelId": model_id, "nodeId": model_id})
    by_slug = await client.data(LOOKUPS, {"slug": "openai", "modelId": model_id, "nodeId": provider_id})
    missing = await client.data(LOOKUPS, {"slug": "nope", "modelId": model_id, "nodeId": model_id})

    # then
    assert by_id == {
        "provider": {"slug": "anthropic"},
        "providerModel": {"modelId": "gpt-4o", "provider": {"slug": "openai"}},
        "node": {"__typename": "ProviderModel", "id": model_id, "modelId": "gpt-4o"},
    }
    assert by_slug["provider"] == {"slug": "openai"}
    assert by_slug["node"] == {"__typename": "Provider", "id": provider_id, "slug": "anthropic"}
    assert missing["provider"] is None
    assert await client.error_codes(
        LOOKUPS, {"providerId": provider_id, "slug": "openai", "modelId": model_id, "nodeId": model_id}
    ) == ["BAD_USER_INPUT"]
    assert await client.error_codes(
        LOOKUPS, {"slug": "openai", "modelId": provider_id, "nodeId": model_id}
    ) == ["INVALID_ID"]


async def _counts(session: RequestSession) -> tuple[int, int]:
    providers = await session.scalar(select(func.count()).select_from(db.Provider))
    models = await session.scalar(select(func.count()).select_from(db.ProviderModel))
    return int(providers or 0), int(models or 0)


async def test_create_and_update_provider(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    # given
    new = {"slug": " Groq ", "name": "Groq", "kind": "MODEL_API", "homepageUrl": "https://groq.com"}

    # when / then: writes need a key
    assert await client.error_codes(CREATE_PROVIDER, {"input": new}) == ["UNAUTHENTICATED"]
    created = (await client.data(CREATE_PROVIDER, {"input": new}, token=writer_token))["createProvider"]
    assert {k: v for k, v in created.items() if k != "id"} == {
        "slug": "groq",
        "name": "Groq",
        "kind": "MODEL_API",
        "homepageUrl": "https://groq.com",
        "origin": "API",
        "editedFields": [],
    }

    # when / then: an operator edit is recorded, unchanged values are not
    update = {"id": created["id"], "input": {"name": "Groq Cloud", "kind": "MODEL_API", "homepageUrl": None}}
    assert await client.error_codes(UPDATE_PROVIDER, update) == ["UNAUTHENTICATED"]
    updated = (await client.data(UPDATE_PROVIDER, update, token=writer_token))["updateProvider"]
    assert updated == {
        "slug": "groq",
        "name": "Groq Cloud",
        "kind": "MODEL_API",
        "homepageUrl": None,
        "origin": "API",
        "editedFields": ["homepage_url", "name"],
    }


async def test_provider_mutations_refuse_bad_input_and_change_nothing(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    # given
    provider = await factories.provider(session, "openai", name="OpenAI")
    await session.commit()
    provider_id = to_global_id("Provider", provider.id)
    version = await client.data(REGISTRY_VERSION)
    counts = await _counts(session)
    good = {"slug": "groq", "name": "Groq", "kind": "MODEL_API"}

    # when / then
    for bad, code in [
        ({**good, "slug": "OpenAI"}, "CONFLICT"),
        ({**good, "slug": "-groq"}, "BAD_USER_INPUT"),
        ({**good, "slug": "gr oq"}, "BAD_USER_INPUT"),
        ({**good, "name": "  "}, "BAD_USER_INPUT"),
        ({**good, "homepageUrl": "javascript:alert(1)"}, "BAD_USER_INPUT"),
    ]:
        assert await client.error_codes(CREATE_PROVIDER, {"input": bad}, token=writer_token) == [code], bad
    for bad_update, code in [
        ({"id": provider_id, "input": {"name": None}}, "BAD_USER_INPUT"),
        ({"id": provider_id, "input": {"name": ""}}, "BAD_USER_INPUT"),
        ({"id": to_global_id("Provider", provider.id + 1000), "input": {"name": "x"}}, "NOT_FOUND"),
        ({"id": to_global_id("Hardware", provider.id), "input": {"name": "x"}}, "INVALID_ID"),
    ]:
        assert await client.error_codes(UPDATE_PROVIDER, bad_update, token=writer_token) == [code], bad_update

    # then
    assert await _counts(session) == counts
    assert await client.data(REGISTRY_VERSION) == version
    assert (await client.data(PROVIDERS))["providers"]["nodes"] == [
        {"slug": "openai", "name": "OpenAI", "kind": "MODEL_API", "homepageUrl": None}
    ]


async def test_create_and_update_provider_model_keeps_decimals_exact(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    # given
    provider = await factories.provider(session, "openai")
    await session.commit()
    new = {
        "providerId": to_global_id("Provider", provider.id),
        "modelId": "gpt-5-nano",
        "mode": "CHAT",
        "inputPerMillion": "0.00000001",
        "outputPerMillion": "9999999999.99999999",
        "cacheReadPerMillion": 0.1,
        "cacheWritePerMillion": "2.50000000000",
        "maxInputTokens": 400_000,
        "supportsVision": True,
    }

    # when
    assert await client.error_codes(CREATE_MODEL, {"input": new}) == ["UNAUTHENTICATED"]
    created = (await client.data(CREATE_MODEL, {"input": new}, token=writer_token))["createProviderModel"]

    # then: what was written is what is read, digit for digit (trailing zeros dropped, plain notation)
    assert {k: v for k, v in created.items() if k != "id"} == {
        "modelId": "gpt-5-nano",
        "mode": "CHAT",
        "inputPerMillion": "0.00000001",
        "outputPerMillion": "9999999999.99999999",
        "cacheReadPerMillion": "0.1",
        "cacheWritePerMillion": "2.5",
        "maxInputTokens": 400000,
        "supportsVision": True,
        "deprecated": False,
        "origin": "API",
        "editedFields": [],
        "provider": {"slug": "openai"},
    }
    row = await session.scalar(select(db.ProviderModel).where(db.ProviderModel.model_id == "gpt-5-nano"))
    assert row is not None
    assert row.output_per_million == Decimal("9999999999.99999999")

    # when: an operator changes one price and restates an unchanged flag
    update = {
        "id": created["id"],
        "input": {"inputPerMillion": "0.05", "supportsVision": True, "maxInputTokens": None},
    }
    assert await client.error_codes(UPDATE_MODEL, update) == ["UNAUTHENTICATED"]
    updated = (await client.data(UPDATE_MODEL, update, token=writer_token))["updateProviderModel"]

    # then: only what changed is recorded as edited
    assert updated == {
        "modelId": "gpt-5-nano",
        "inputPerMillion": "0.05",
        "outputPerMillion": "9999999999.99999999",
        "supportsVision": True,
        "maxInputTokens": None,
        "editedFields": ["input_per_million", "max_input_tokens"],
    }


async def test_provider_model_mutations_refuse_bad_input_and_change_nothing(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    # given
    provider = await factories.provider(session, "openai")
    model = await factories.provider_model(session, provider, "gpt-4o", input_per_million=Decimal("2.5"))
    await session.commit()
    version = await client.data(REGISTRY_VERSION)
    counts = await _counts(session)
    good = {"providerId": to_global_id("Provider", provider.id), "modelId": "o3", "mode": "CHAT"}
    model_id = to_global_id("ProviderModel", model.id)

    # when / then
    for bad, code in [
        ({**good, "inputPerMillion": "-0.01"}, "BAD_USER_INPUT"),
        ({**good, "outputPerMillion": "0.000000001"}, "BAD_USER_INPUT"),
        ({**good, "outputPerMillion": "10000000000"}, "BAD_USER_INPUT"),
        ({**good, "cacheReadPerMillion": "NaN"}, "BAD_USER_INPUT"),
        ({**good, "cacheWritePerMillion": "Infinity"}, "BAD_USER_INPUT"),
        ({**good, "maxInputTokens": 0}, "BAD_USER_INPUT"),
        ({**good, "modelId": " "}, "BAD_USER_INPUT"),
        ({**good, "modelId": "gpt-4o"}, "CONFLICT"),
        ({**good, "providerId": to_global_id("Provider", provider.id + 1000)}, "NOT_FOUND"),
        ({**good, "providerId": model_id}, "INVALID_ID"),
    ]:
        assert await client.error_codes(CREATE_MODEL, {"input": bad}, token=writer_token) == [code], bad
    for bad_update, code in [
        ({"inputPerMillion": "-1"}, "BAD_USER_INPUT"),
        ({"maxOutputTokens": -5}, "BAD_USER_INPUT"),
        ({"supportsVision": None}, "BAD_USER_INPUT"),
        ({"mode": None}, "BAD_USER_INPUT"),
    ]:
        variables = {"id": model_id, "input": bad_update}
        assert await client.error_codes(UPDATE_MODEL, variables, token=writer_token) == [code], bad_update

    # then
    assert await _counts(session) == counts
    assert await client.data(REGISTRY_VERSION) == version
    data = await client.data(MODEL_DETAILS)
    assert [(n["modelId"], n["inputPerMillion"]) for n in data["providerModels"]["nodes"]] == [
        ("gpt-4o", "2.5")
    ]


async def _grow(session: RequestSession, start: int, stop: int) -> None:
    """Providers ``start..stop``, each with three models and two hardware prices."""
    sku = await session.scalar(select(db.Hardware).where(db.Hardware.sku == "shared-gpu"))
    if sku is None:
        sku = await factories.hardware(session, "shared-gpu")
    for i in range(start, stop):
        provider = await factories.provider(session, f"provider-{i:03}")
        for j in range(3):
            await factories.provider_model(session, provider, f"model-{j}", input_per_million=Decimal(j))
        for region in ("us-east-1", "eu-west-1"):
            await factories.hardware_price(session, sku, provider, f"{i}.5", region=region)
    await session.commit()


async def _nested_statements(client: GraphQLClient, statements: StatementCounter, rows: int) -> int:
    statements.reset()
    data = await client.data(NESTED)
    assert len(data["providers"]["nodes"]) == rows
    assert all(p["models"]["totalCount"] == 3 for p in data["providers"]["nodes"])
    assert all(p["hardwarePrices"]["totalCount"] == 2 for p in data["providers"]["nodes"])
    assert len(data["providerModels"]["nodes"]) == min(3 * rows, 100)
    return statements.count


async def test_statement_count_does_not_grow_with_providers(
    session: RequestSession, client: GraphQLClient, statements: StatementCounter
) -> None:
    # given / when
    await _grow(session, 0, 5)
    with_5 = await _nested_statements(client, statements, 5)
    await _grow(session, 5, 50)
    with_50 = await _nested_statements(client, statements, 50)

    # then: count + page of providers and of providerModels, one page of models and one of prices for
    # all providers, one provider batch and one hardware batch; plus the test transaction's savepoint
    assert with_5 == with_50
    assert with_5 == 8 + 2, statements.statements
