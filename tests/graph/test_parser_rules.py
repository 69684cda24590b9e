"""Every seeded parser rule, checked against the Hub ids it is meant for; regex rules run on RE2.

MEANT_FOR lists, per seeded rule, the model ids the rule exists for: the base id, instruct, chat,
thinking and distilled variants, as the Hub and vLLM's tool-calling and reasoning docs name them.
Each id must get the rule's parser (and its chat template) from the whole seeded rule set.
"""

from __future__ import annotations

import json

import pytest

from budgraph import db
from budgraph.compatibility.parsers import choose_parser
from budgraph.kit.db import RequestSession
from budgraph.kit.ids import to_global_id
from budgraph.seeds.files import DATA_DIR
from tests import factories
from tests.conftest import GraphQLClient

MEANT_FOR: dict[tuple[str, str], list[str]] = {
    # tool-call rules
    ("tool", "NousResearch/Hermes-2-Pro-"): ["NousResearch/Hermes-2-Pro-Llama-3-8B", "NousResearch/Hermes-2-Pro-Mistral-7B"],
    ("tool", "NousResearch/Hermes-2-Theta-"): ["NousResearch/Hermes-2-Theta-Llama-3-8B"],
    ("tool", "NousResearch/Hermes-3-"): ["NousResearch/Hermes-3-Llama-3.1-8B", "NousResearch/Hermes-3-Llama-3.1-70B"],
    ("tool", "Qwen/Qwen2.5-"): ["Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-72B-Instruct", "Qwen/Qwen2.5-Coder-32B-Instruct"],
    ("tool", "Qwen/QwQ-32B"): ["Qwen/QwQ-32B"],
    ("tool", "mistralai/Mistral-"): ["mistralai/Mistral-7B-Instruct-v0.3", "mistralai/Mistral-Small-24B-Instruct-2501"],
    ("tool", "mistralai/Ministral-"): ["mistralai/Ministral-8B-Instruct-2410"],
    ("tool", "meta-llama/Llama-3.1-"): ["meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-70B-Instruct"],
    ("tool", "meta-llama/Llama-3.2-"): ["meta-llama/Llama-3.2-1B-Instruct", "meta-llama/Llama-3.2-3B-Instruct"],
    ("tool", "meta-llama/Llama-4-"): ["meta-llama/Llama-4-Scout-17B-16E-Instruct", "meta-llama/Llama-4-Maverick-17B-128E-Instruct"],
    ("tool", "ibm-granite/granite-4.0-"): ["ibm-granite/granite-4.0-h-small", "ibm-granite/granite-4.0-micro"],
    ("tool", "ibm-granite/granite-3.0-"): ["ibm-granite/granite-3.0-8b-instruct"],
    ("tool", "ibm-granite/granite-3.1-"): ["ibm-granite/granite-3.1-8b-instruct"],
    ("tool", "ibm-granite/granite-20b-functioncalling"): ["ibm-granite/granite-20b-functioncalling"],
    ("tool", "internlm/internlm2_5-"): ["internlm/internlm2_5-7b-chat"],
    ("tool", "ai21labs/AI21-Jamba-"): ["ai21labs/AI21-Jamba-1.5-Mini", "ai21labs/AI21-Jamba-1.5-Large"],
    ("tool", "Salesforce/Llama-xLAM-"): ["Salesforce/Llama-xLAM-2-8b-fc-r", "Salesforce/Llama-xLAM-2-70b-fc-r"],
    ("tool", "Salesforce/xLAM-"): ["Salesforce/xLAM-2-1b-fc-r", "Salesforce/xLAM-2-3b-fc-r", "Salesforce/xLAM-2-32b-fc-r"],
    # as vLLM's docs name it (the Hub publishes the model as Salesforce/xLAM-2-32b-fc-r)
    ("tool", "Salesforce/Qwen-xLAM-"): ["Salesforce/Qwen-xLAM-32B-fc-r"],
    ("tool", "MiniMaxAi/MiniMax-M1-"): ["MiniMaxAI/MiniMax-M1-40k", "MiniMaxAI/MiniMax-M1-80k"],
    ("tool", "MiniMaxAI/MiniMax-M2"): ["MiniMaxAI/MiniMax-M2"],
    ("tool", "deepseek-ai/DeepSeek-V3-0324"): ["deepseek-ai/DeepSeek-V3-0324"],
    ("tool", "deepseek-ai/DeepSeek-R1-0528"): ["deepseek-ai/DeepSeek-R1-0528"],
    ("tool", "deepseek-ai/DeepSeek-V3.1"): ["deepseek-ai/DeepSeek-V3.1", "deepseek-ai/DeepSeek-V3.1-Terminus"],
    ("tool", "deepseek-ai/DeepSeek-V3.2"): ["deepseek-ai/DeepSeek-V3.2-Exp", "deepseek-ai/DeepSeek-V3.2"],
    ("tool", "openai/gpt-oss-"): ["openai/gpt-oss-20b", "openai/gpt-oss-120b"],
    ("tool", "moonshotai/Kimi-K2-"): ["moonshotai/Kimi-K2-Instruct", "moonshotai/Kimi-K2-Instruct-0905"],
    ("tool", "tencent/Hunyuan-A13B-"): ["tencent/Hunyuan-A13B-Instruct"],
    ("tool", "CohereLabs/command-a-reasoning-08-2025"): ["CohereLabs/command-a-reasoning-08-2025"],
    ("tool", "meituan-longcat/LongCat-Flash-"): ["meituan-longcat/LongCat-Flash-Chat", "meituan-longcat/LongCat-Flash-Chat-FP8"],
    ("tool", "zai-org/GLM-4.5"): ["zai-org/GLM-4.5", "zai-org/GLM-4.5-Air"],
    ("tool", "zai-org/GLM-4.6"): ["zai-org/GLM-4.6"],
    ("tool", "zai-org/GLM-4.7"): ["zai-org/GLM-4.7", "zai-org/GLM-4.7-Flash"],
    ("tool", "google/functiongemma-"): ["google/functiongemma-270m-it"],
    ("tool", "Qwen/Qwen3-Coder-"): ["Qwen/Qwen3-Coder-480B-A35B-Instruct", "Qwen/Qwen3-Coder-30B-A3B-Instruct"],
    ("tool", "allenai/Olmo-3-"): ["allenai/Olmo-3-7B-Instruct", "allenai/Olmo-3-32B-Think"],
    ("tool", "ai-sage/GigaChat3-"): ["ai-sage/GigaChat3-702B-A36B-preview", "ai-sage/GigaChat3-10B-A1.8B"],
    ("tool", "swiss-ai/Apertus-"): ["swiss-ai/Apertus-8B-Instruct-2509", "swiss-ai/Apertus-70B-Instruct-2509"],
    # reasoning rules
    ("reasoning", "deepseek-ai/DeepSeek-R1"): ["deepseek-ai/DeepSeek-R1"],
    ("reasoning", "deepseek-ai/DeepSeek-R1-"): [
        "deepseek-ai/DeepSeek-R1-0528", "deepseek-ai/DeepSeek-R1-Zero", "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B",
        "deepseek-ai/DeepSeek-R1-Distill-Llama-70B",
    ],
    ("reasoning", "Qwen/QwQ-32B"): ["Qwen/QwQ-32B"],
    ("reasoning", "deepseek-ai/DeepSeek-V3.1"): ["deepseek-ai/DeepSeek-V3.1", "deepseek-ai/DeepSeek-V3.1-Terminus"],
    ("reasoning", "Qwen/Qwen3-"): ["Qwen/Qwen3-8B", "Qwen/Qwen3-30B-A3B", "Qwen/Qwen3-235B-A22B-Thinking-2507"],
    ("reasoning", "ibm-granite/granite-3.2-"): ["ibm-granite/granite-3.2-2b-instruct", "ibm-granite/granite-3.2-8b-instruct"],
    ("reasoning", "CohereLabs/command-a-reasoning-08-2025"): ["CohereLabs/command-a-reasoning-08-2025"],
    ("reasoning", "baidu/ERNIE-4.5-VL-"): ["baidu/ERNIE-4.5-VL-28B-A3B-PT", "baidu/ERNIE-4.5-VL-424B-A47B-PT"],
    ("reasoning", "baidu/ERNIE-4.5-21B-A3B-Thinking"): ["baidu/ERNIE-4.5-21B-A3B-Thinking"],
    ("reasoning", "zai-org/GLM-4.5"): ["zai-org/GLM-4.5", "zai-org/GLM-4.5-Air"],
    ("reasoning", "zai-org/GLM-4.6"): ["zai-org/GLM-4.6"],
    ("reasoning", "Hcompany/Holo2"): ["Hcompany/Holo2-8B", "Hcompany/Holo2-30B-A3B"],
    ("reasoning", "tencent/Hunyuan-A13B-"): ["tencent/Hunyuan-A13B-Instruct"],
    ("reasoning", "MiniMaxAI/MiniMax-M2"): ["MiniMaxAI/MiniMax-M2"],
    ("reasoning", "openai/gpt-oss-"): ["openai/gpt-oss-20b", "openai/gpt-oss-120b"],
    ("reasoning", "allenai/Olmo-3-"): ["allenai/Olmo-3-7B-Think", "allenai/Olmo-3-32B-Think"],
    ("reasoning", "ByteDance-Seed/Seed-OSS-"): ["ByteDance-Seed/Seed-OSS-36B-Instruct"],
    ("reasoning", "stepfun-ai/step3"): ["stepfun-ai/step3"],
    ("reasoning", "stepfun-ai/Step3-"): ["stepfun-ai/step3-fp8"],
    ("reasoning", "stepfun-ai/Step-3.5-"): ["stepfun-ai/Step-3.5-Flash"],
    ("reasoning", "moonshotai/Kimi-K2-"): ["moonshotai/Kimi-K2-Thinking", "moonshotai/Kimi-K2-Instruct"],
    ("reasoning", "mistralai/Magistral-"): ["mistralai/Magistral-Small-2506", "mistralai/Magistral-Small-2509"],
    ("reasoning", "nvidia/Llama-3_3-Nemotron-"): [
        "nvidia/Llama-3_3-Nemotron-Super-49B-v1", "nvidia/Llama-3_3-Nemotron-Super-49B-v1_5",
    ],
    # no public Hub id is known to us for this upstream rule: its own pattern stands for the family
    ("reasoning", "tencent/Hunyuan-V3-"): ["tencent/Hunyuan-V3-Instruct"],
    ("reasoning", "XiaomiMiMo/MiMo-"): ["XiaomiMiMo/MiMo-7B-RL", "XiaomiMiMo/MiMo-7B-Base"],
}  # fmt: skip


def _seeded_rules() -> list[db.ParserRule]:
    records = json.loads((DATA_DIR / "parser_rules.json").read_text(encoding="utf-8"))["records"]
    names = ("rule_type", "parser", "match_type", "pattern", "priority", "enabled", "notes", "chat_template")
    return [
        db.ParserRule(id=index, engine_id=1, **{name: record.get(name) for name in names})
        for index, record in enumerate(records, start=1)
    ]


RULES = _seeded_rules()


def test_every_seeded_rule_has_the_ids_it_is_meant_for() -> None:
    assert sorted((r.rule_type, r.pattern) for r in RULES) == sorted(MEANT_FOR)


CASES = [
    pytest.param(rule, model_id, id=f"{rule.rule_type}:{model_id}")
    for rule in RULES
    for model_id in MEANT_FOR.get((rule.rule_type, rule.pattern), [])
]


@pytest.mark.parametrize(("rule", "model_id"), CASES)
def test_a_rule_chooses_its_parser_for_the_ids_it_is_meant_for(rule: db.ParserRule, model_id: str) -> None:
    choice = choose_parser(RULES, rule.rule_type, model_id, shipped=[], fallback="the-architecture-default")
    assert (choice.parser, choice.chat_template) == (rule.parser, rule.chat_template)


def test_sixteen_rules_name_their_chat_template() -> None:
    templates = {r.pattern: r.chat_template for r in RULES if r.chat_template}
    assert len(templates) == 16
    assert templates["meta-llama/Llama-3.1-"] == "examples/tool_chat_template_llama3.1_json.jinja"
    assert all(
        t.startswith("examples/tool_chat_template_") and t.endswith(".jinja") for t in templates.values()
    )


COMPATIBLE = """
query ($model: String!) {
  compatibleEngineVersions(model: $model, architecture: "DeepseekV3ForCausalLM", engine: "vllm") {
    nodes { toolCallParser toolChatTemplate reasoningParser }
  }
}
"""


async def test_deepseek_r1_itself_gets_the_r1_reasoning_parser(
    session: RequestSession, client: GraphQLClient
) -> None:
    from budgraph.seeds.service import seed

    await seed(session)
    await session.commit()
    r1 = (await client.data(COMPATIBLE, {"model": "deepseek-ai/DeepSeek-R1"}))["compatibleEngineVersions"][
        "nodes"
    ]
    assert {n["reasoningParser"] for n in r1} == {"deepseek_r1"}
    r1_0528 = (await client.data(COMPATIBLE, {"model": "deepseek-ai/DeepSeek-R1-0528"}))[
        "compatibleEngineVersions"
    ]
    assert {(n["toolCallParser"], n["toolChatTemplate"], n["reasoningParser"]) for n in r1_0528["nodes"]} == {
        ("deepseek_v3", "examples/tool_chat_template_deepseekr1.jinja", "deepseek_r1")
    }


CREATE_RULE = """
mutation ($input: CreateParserRuleInput!) { createParserRule(input: $input) { id pattern matchType } }
"""
LOOKUP = """
query ($model: String!) {
  compatibleEngineVersions(model: $model, architecture: "LlamaForCausalLM") { nodes { toolCallParser } }
}
"""


@pytest.mark.parametrize(
    "pattern",
    [r"(a+)\1b", r"(?=a)a+b", r"(?<=x)a+", r"a++b", r"(?P<x>a)(?P=x)"],
)
async def test_patterns_re2_cannot_match_are_refused(
    session: RequestSession, client: GraphQLClient, writer_token: str, pattern: str
) -> None:
    vllm = await factories.engine(session, "vllm")
    await session.commit()
    rule = {"engineId": to_global_id("Engine", vllm.id), "ruleType": "TOOL", "parser": "hermes",
            "matchType": "REGEX", "pattern": pattern}  # fmt: skip
    body = await client.execute(CREATE_RULE, {"input": rule}, token=writer_token)
    assert body["data"] is None
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in body["errors"]] == [
        ("BAD_USER_INPUT", "pattern")
    ]
    assert "RE2" in body["errors"][0]["message"]


@pytest.mark.parametrize("pattern", [r"(a|a)+b", r"(a+)+b", r"(a|aa)+c"])
async def test_catastrophic_patterns_match_in_linear_time(
    session: RequestSession, client: GraphQLClient, writer_token: str, pattern: str
) -> None:
    # given: a rule whose pattern backtracks exponentially in Python's `re` (2^n steps for n letters)
    vllm = await factories.engine(session, "vllm")
    llama = await factories.architecture(session, "LlamaForCausalLM")
    await factories.edge(session, await factories.version(session, vllm, "0.10.0"), llama)
    await session.commit()
    rule = {"engineId": to_global_id("Engine", vllm.id), "ruleType": "TOOL", "parser": "evil",
            "matchType": "REGEX", "pattern": pattern}  # fmt: skip
    await client.data(CREATE_RULE, {"input": rule}, token=writer_token)

    # when: anonymous lookups with the longest ids the API takes (512 characters) that almost match
    # (Python's `re` would never finish)
    for model_id in ("a" * 512, "a" * 511 + "!", ("a" * 60 + "/") * 8):
        data = await client.data(LOOKUP, {"model": model_id})
        # then: an answer, and the rule did not match
        assert data["compatibleEngineVersions"]["nodes"] == [{"toolCallParser": None}]
    # and a matching id is matched (case-insensitively, as Hub ids are)
    matching = {r"(a|a)+b": "A" * 500 + "b", r"(a+)+b": "a" * 500 + "B", r"(a|aa)+c": "a" * 499 + "c"}
    if pattern in matching:
        data = await client.data(LOOKUP, {"model": matching[pattern]})
        assert data["compatibleEngineVersions"]["nodes"] == [{"toolCallParser": "evil"}]
