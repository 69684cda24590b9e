"""Bad input gets a typed error with a stable code, and changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from budgraph import db
from budgraph.kit.db import RequestSession
from budgraph.kit.ids import to_global_id
from tests import factories
from tests.conftest import GraphQLClient

ENGINE_BY_ID = "query ($id: ID!) { engine(id: $id) { slug } }"
VERSION_BY_ID = "query ($id: ID!) { engineVersion(id: $id) { version } }"
ENGINES_PAGE = "query ($first: Int, $last: Int, $after: String) { engines(first: $first, last: $last, after: $after) { totalCount } }"
CREATE_VERSION = """
mutation ($input: CreateEngineVersionInput!) { createEngineVersion(input: $input) { version } }
"""
REGISTRY_VERSION = "{ registryVersion }"


async def test_malformed_and_mistyped_ids(session: RequestSession, client: GraphQLClient) -> None:
    vllm = await factories.engine(session, "vllm")
    await session.commit()
    assert await client.error_codes(ENGINE_BY_ID, {"id": "not-an-id"}) == ["INVALID_ID"]
    assert await client.error_codes(VERSION_BY_ID, {"id": to_global_id("Engine", vllm.id)}) == ["INVALID_ID"]
    assert await client.error_codes('{ node(id: "RW5naW5lOjA") { id } }') == ["INVALID_ID"]
    assert await client.error_codes(
        "query ($id: ID!) { node(id: $id) { id } }", {"id": to_global_id("Nope", 1)}
    ) == ["INVALID_ID"]
    # a well-formed id of a row that does not exist is null, as Relay expects
    assert await client.data(ENGINE_BY_ID, {"id": to_global_id("Engine", 999999)}) == {"engine": None}


async def test_page_size_and_cursor_errors(client: GraphQLClient) -> None:
    assert await client.error_codes(ENGINES_PAGE, {"first": 101}) == ["PAGE_SIZE_EXCEEDED"]
    assert await client.error_codes(ENGINES_PAGE, {"last": 1000}) == ["PAGE_SIZE_EXCEEDED"]
    assert await client.error_codes(ENGINES_PAGE, {"first": -1}) == ["BAD_USER_INPUT"]
    assert await client.error_codes(ENGINES_PAGE, {"first": 1, "last": 1}) == ["BAD_USER_INPUT"]
    assert await client.error_codes(ENGINES_PAGE, {"first": 1, "after": "garbage"}) == ["INVALID_CURSOR"]
    # first: 0 is a valid empty page, never a division by zero
    assert await client.data(ENGINES_PAGE, {"first": 0}) == {"engines": {"totalCount": 0}}


async def test_unknown_filter_field_and_syntax_error(client: GraphQLClient) -> None:
    codes = await client.error_codes('{ engines(filter: {colour: "red"}) { totalCount } }')
    assert codes == ["GRAPHQL_VALIDATION_FAILED"]
    assert await client.error_codes("{ engines(first: ") == ["GRAPHQL_PARSE_FAILED"]
    assert await client.error_codes("{ enginez { totalCount } }") == ["GRAPHQL_VALIDATION_FAILED"]


async def test_duplicate_version_is_a_conflict_and_changes_nothing(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    vllm = await factories.engine(session, "vllm")
    await factories.version(session, vllm, "0.8.0")
    await session.commit()
    before = await client.data(REGISTRY_VERSION)
    variables = {
        "input": {
            "engineId": to_global_id("Engine", vllm.id),
            "version": "0.8.0",
            "deviceArchitecture": "CUDA",
            "containerImage": "x/y:z",
        }
    }
    assert await client.error_codes(CREATE_VERSION, variables, token=writer_token) == ["CONFLICT"]
    assert await client.data(REGISTRY_VERSION) == before
    count = await session.scalar(select(func.count()).select_from(db.EngineVersion))
    assert count == 1


async def test_bad_version_string_and_empty_image(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    vllm = await factories.engine(session, "vllm")
    await session.commit()
    base = {"engineId": to_global_id("Engine", vllm.id), "deviceArchitecture": "ROCM"}
    bad_version = {"input": {**base, "version": "latest", "containerImage": "a:b"}}
    assert await client.error_codes(CREATE_VERSION, bad_version, token=writer_token) == ["BAD_USER_INPUT"]
    empty_image = {"input": {**base, "version": "1.0.0", "containerImage": "  "}}
    assert await client.error_codes(CREATE_VERSION, empty_image, token=writer_token) == ["BAD_USER_INPUT"]
    unknown_arch = {
        "input": {**base, "version": "1.0.0", "containerImage": "a:b", "architectures": ["NopeLM"]}
    }
    assert await client.error_codes(CREATE_VERSION, unknown_arch, token=writer_token) == ["NOT_FOUND"]
    count = await session.scalar(select(func.count()).select_from(db.EngineVersion))
    assert count == 0


async def test_a_failing_mutation_rolls_back_the_whole_request(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    vllm = await factories.engine(session, "vllm")
    await session.commit()
    engine_id = to_global_id("Engine", vllm.id)
    both = """
    mutation ($engine: ID!) {
      a: createEngineVersion(input: {engineId: $engine, version: "1.0.0", deviceArchitecture: CUDA,
                                     containerImage: "a:1"}) { version }
      b: createEngineVersion(input: {engineId: $engine, version: "1.0", deviceArchitecture: CUDA,
                                     containerImage: "a:1"}) { version }
    }
    """
    body = await client.execute(both, {"engine": engine_id}, token=writer_token)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["CONFLICT"]
    count = await session.scalar(select(func.count()).select_from(db.EngineVersion))
    assert count == 0
    assert await client.data(REGISTRY_VERSION) == {"registryVersion": 0}


async def test_bad_variables_and_bodies_are_client_errors(client: GraphQLClient) -> None:
    assert await client.error_codes(ENGINES_PAGE, {"first": "many"}) == ["GRAPHQL_VALIDATION_FAILED"]
    codes = await client.error_codes(
        'query ($d: DeviceArchitecture) { latestEngineVersion(engine: "vllm", deviceArchitecture: $d) { id } }',
        {"d": "TPU"},
    )
    assert codes == ["GRAPHQL_VALIDATION_FAILED"]
    response = await client.http.post(
        "/graphql", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    response = await client.http.post("/graphql", json={"variables": {}})
    assert response.status_code == 400


UPDATE_ARCH = "mutation ($id: ID!) { updateModelArchitecture(id: $id, input: {supportsLora: null}) { id } }"


async def test_null_for_a_required_field_names_it_in_schema_terms(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    arch = await factories.architecture(session, "LlamaForCausalLM")
    await session.commit()
    body = await client.execute(
        UPDATE_ARCH, {"id": to_global_id("ModelArchitecture", arch.id)}, token=writer_token
    )
    assert body["errors"][0]["message"] == "`supportsLora` cannot be null"
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "supportsLora"}
