"""The runtime-facing compatibility lookups: versions for a model or architecture, with parsers."""

from __future__ import annotations

from budgraph import db
from budgraph.kit.db import RequestSession
from tests import factories
from tests.conftest import GraphQLClient

COMPATIBLE = """
query ($model: String, $architecture: String, $device: DeviceArchitecture, $engine: String) {
  compatibleEngineVersions(model: $model, architecture: $architecture, deviceArchitecture: $device, engine: $engine) {
    totalCount
    nodes {
      engineVersion { version deviceArchitecture engine { slug } }
      containerImage toolCallParser reasoningParser supportsLora supportsPipelineParallelism
      architecture { className }
    }
  }
}
"""


async def _graph(session: RequestSession) -> None:
    vllm = await factories.engine(session, "vllm")
    sglang = await factories.engine(session, "sglang")
    qwen = await factories.architecture(
        session,
        "Qwen2ForCausalLM",
        family="qwen2",
        supports_lora=True,
        supports_pipeline_parallelism=True,
        default_tool_call_parser="hermes",
    )
    llama = await factories.architecture(session, "LlamaForCausalLM", family="llama", supports_lora=True)
    v08 = await factories.version(
        session,
        vllm,
        "0.8.0",
        tool_call_parsers=["hermes", "qwen3_xml"],
        reasoning_parsers=["qwen3", "deepseek_r1"],
    )
    v010 = await factories.version(
        session,
        vllm,
        "0.10.0",
        tool_call_parsers=["hermes", "qwen3_xml"],
        reasoning_parsers=["qwen3", "deepseek_r1"],
    )
    rocm = await factories.version(session, vllm, "0.9.0", device="ROCM")
    old = await factories.version(session, vllm, "0.7.0", status="deprecated")
    sg = await factories.version(session, sglang, "0.4.6")
    for version in (v08, v010, rocm, old, sg):
        await factories.edge(session, version, qwen)
    await factories.edge(session, v08, llama)
    rules = [
        ("tool", "hermes", "prefix", "Qwen/Qwen2.5-", 0),
        ("tool", "qwen3_xml", "prefix", "qwen/qwen3-coder", 5),
        ("reasoning", "qwen3", "regex", r"Qwen/Qwen3-\d+B", 0),
        ("reasoning", "deepseek_r1", "exact", "Qwen/QwQ-32B", 0),
        ("tool", "never_shipped", "prefix", "Qwen/", 100),
    ]
    for rule_type, parser, match, pattern, priority in rules:
        session.add(
            db.ParserRule(
                engine_id=vllm.id,
                rule_type=rule_type,
                parser=parser,
                match_type=match,
                pattern=pattern,
                priority=priority,
            )
        )
    await factories.model(session, "Qwen/Qwen3-8B", architecture="Qwen2ForCausalLM")
    await session.commit()


async def test_compatible_versions_for_an_architecture(
    session: RequestSession, client: GraphQLClient
) -> None:
    await _graph(session)
    data = await client.data(COMPATIBLE, {"architecture": "Qwen2ForCausalLM", "device": "CUDA"})
    result = data["compatibleEngineVersions"]
    assert result["totalCount"] == 3
    assert [
        (n["engineVersion"]["engine"]["slug"], n["engineVersion"]["version"]) for n in result["nodes"]
    ] == [
        ("vllm", "0.10.0"),
        ("vllm", "0.8.0"),
        ("sglang", "0.4.6"),
    ]
    first = result["nodes"][0]
    assert first == {
        "engineVersion": {"version": "0.10.0", "deviceArchitecture": "CUDA", "engine": {"slug": "vllm"}},
        "containerImage": "example/vllm-cuda:0.10.0",
        "toolCallParser": "hermes",
        "reasoningParser": None,
        "supportsLora": True,
        "supportsPipelineParallelism": True,
        "architecture": {"className": "Qwen2ForCausalLM"},
    }


async def test_parsers_are_chosen_by_rules_for_the_model_id(
    session: RequestSession, client: GraphQLClient
) -> None:
    await _graph(session)

    async def parsers(model: str) -> tuple[str | None, str | None]:
        data = await client.data(
            COMPATIBLE,
            {"model": model, "architecture": "Qwen2ForCausalLM", "engine": "vllm", "device": "CUDA"},
        )
        node = data["compatibleEngineVersions"]["nodes"][0]
        return node["toolCallParser"], node["reasoningParser"]

    # prefix rule (case-insensitive), the higher priority wins, a parser the version lacks never does
    assert await parsers("Qwen/Qwen2.5-7B-Instruct") == ("hermes", None)
    assert await parsers("Qwen/Qwen3-Coder-30B-A3B") == ("qwen3_xml", None)
    # regex must match the whole id; exact rule
    assert await parsers("Qwen/Qwen3-8B") == ("hermes", "qwen3")
    assert await parsers("Qwen/Qwen3-8B-Base") == ("hermes", None)
    assert await parsers("Qwen/QwQ-32B") == ("hermes", "deepseek_r1")


async def test_model_gives_its_architecture(session: RequestSession, client: GraphQLClient) -> None:
    await _graph(session)
    data = await client.data(COMPATIBLE, {"model": "qwen/qwen3-8b", "device": "ROCM"})
    assert [n["engineVersion"]["version"] for n in data["compatibleEngineVersions"]["nodes"]] == ["0.9.0"]
    assert await client.error_codes(COMPATIBLE, {"model": "unknown/model"}) == ["NOT_FOUND"]
    assert await client.error_codes(COMPATIBLE, {"architecture": "NopeForCausalLM"}) == ["NOT_FOUND"]
    assert await client.error_codes(COMPATIBLE, {}) == ["BAD_USER_INPUT"]


SERVED = """
{ engineVersions(filter: {engineSlugs: ["vllm"], deviceArchitectures: [CUDA], statuses: [ACTIVE]}) {
    nodes { version architectures { totalCount nodes { className } } models { nodes { uri } } } } }
"""


async def test_models_an_engine_version_serves(session: RequestSession, client: GraphQLClient) -> None:
    await _graph(session)
    data = await client.data(SERVED)
    assert data["engineVersions"]["nodes"] == [
        {
            "version": "0.10.0",
            "architectures": {"totalCount": 1, "nodes": [{"className": "Qwen2ForCausalLM"}]},
            "models": {"nodes": [{"uri": "Qwen/Qwen3-8B"}]},
        },
        {
            "version": "0.8.0",
            "architectures": {
                "totalCount": 2,
                "nodes": [{"className": "LlamaForCausalLM"}, {"className": "Qwen2ForCausalLM"}],
            },
            "models": {"nodes": [{"uri": "Qwen/Qwen3-8B"}]},
        },
    ]


BAD_RULE = """
mutation ($engine: ID!) {
  createParserRule(input: {engineId: $engine, ruleType: TOOL, parser: "x", matchType: REGEX, pattern: "(unclosed"}) { id }
}
"""


async def test_invalid_regex_rule_is_refused(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    from budgraph.kit.ids import to_global_id

    vllm = await factories.engine(session, "vllm")
    await session.commit()
    codes = await client.error_codes(
        BAD_RULE, {"engine": to_global_id("Engine", vllm.id)}, token=writer_token
    )
    assert codes == ["BAD_USER_INPUT"]


NESTED_ORDER = """
{ modelArchitectures(orderBy: {field: CLASS_NAME, direction: DESC}) {
    nodes { className engineVersions(orderBy: {field: VERSION, direction: ASC}, first: 3) { nodes { version } } } }
  engineVersions(filter: {versionPrefix: "0.8"}) {
    nodes { architectures(orderBy: {field: CLASS_NAME, direction: DESC}) { nodes { className } } } } }
"""


async def test_nested_lists_can_be_ordered(session: RequestSession, client: GraphQLClient) -> None:
    await _graph(session)
    data = await client.data(NESTED_ORDER)
    assert data["modelArchitectures"]["nodes"] == [
        {
            "className": "Qwen2ForCausalLM",
            "engineVersions": {"nodes": [{"version": "0.4.6"}, {"version": "0.7.0"}, {"version": "0.8.0"}]},
        },
        {"className": "LlamaForCausalLM", "engineVersions": {"nodes": [{"version": "0.8.0"}]}},
    ]
    assert data["engineVersions"]["nodes"] == [
        {"architectures": {"nodes": [{"className": "Qwen2ForCausalLM"}, {"className": "LlamaForCausalLM"}]}}
    ]
