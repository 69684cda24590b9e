"""Parser rules the upstream catalogue gets wrong, fixed while the seed is built.

Upstream prefix rules end in `-` (`deepseek-ai/DeepSeek-R1-`), so they miss the base model whose id
is the prefix without it: `deepseek-ai/DeepSeek-R1` itself got the architecture's default reasoning
parser (`deepseek_v3`) instead of `deepseek_r1`. Each fix adds an exact rule for the base id (exact
beats prefix, so the variants keep their rules); `tests/graph/test_parser_rules.py` checks every
seeded rule against the Hub ids it is meant for.
"""

from __future__ import annotations

from typing import Any

from budgraph.seeds.corrections import ADDED, Corrections

FILE = "parser_rules.json"
# (engine, rule type, parser, exact model id, why)
BASE_ID_RULES: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "vllm",
        "reasoning",
        "deepseek_r1",
        "deepseek-ai/DeepSeek-R1",
        "the prefix rule `deepseek-ai/DeepSeek-R1-` misses the base model itself, which then got the"
        " architecture default `deepseek_v3`",
    ),
    (
        "vllm",
        "reasoning",
        "step3",
        "stepfun-ai/step3",
        "the prefix rule `stepfun-ai/Step3-` misses the base model `stepfun-ai/step3`",
    ),
)


def base_id_rules(origin_source: str, origin_url: str, corrections: Corrections) -> list[dict[str, Any]]:
    records = []
    for engine, rule_type, parser, model_id, why in BASE_ID_RULES:
        records.append(
            {
                "engine": engine,
                "rule_type": rule_type,
                "parser": parser,
                "match_type": "exact",
                "pattern": model_id,
                "priority": 0,
                "enabled": True,
                "notes": f"Added by the seed build: {why}.",
                "chat_template": None,
                "source": f"{origin_source} (corrected: base id added)",
                "source_url": origin_url,
            }
        )
        corrections.note(
            FILE, f"{engine} {rule_type} exact {model_id}", "pattern", None, model_id, ADDED, why
        )
    return records
