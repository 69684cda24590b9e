"""Sanity checks of upstream (LiteLLM-derived) cloud-model prices, applied while the seed is built.

- Per-character prices: Vertex AI states Gemini prices per character too, at 4 characters per
  token. A per-token price that is not 4 times the record's own per-character price contradicts it
  (upstream entered some per-token prices 16 times too low); the per-character price wins.
- Output cheaper than input (for generated text): flagged. When the model's siblings (the same
  model at the same provider, without a `-latest`, `-001`, `-exp-0827`... suffix) with the same
  input price agree on an output price, that price is taken (upstream wrote 1.05 for 10.5);
  otherwise the output price is rejected (left unknown).
- Per-query prices: rerank models are priced per query (`input_cost_per_query`); their per-token
  prices of 0 are not prices and are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from budgraph.seeds.corrections import CORRECTED, REJECTED, Corrections

FILE = "provider_models.json"
CHARACTERS_PER_TOKEN = 4
TEXT_MODES = {"chat", "completion", "responses"}
SIBLING_SUFFIX = re.compile(r"-(latest|\d{3}|(exp|preview)-\d{4}|\d{4}-\d{2}-\d{2})$")
# LiteLLM keys of long-prompt prices: (threshold in input tokens, upstream suffix).
TIERS = ((128_000, "_above_128k_tokens"), (200_000, "_above_200k_tokens"))
TIER_FIELDS = {
    "input_per_million": "input_cost_per_token{}",
    "output_per_million": "output_cost_per_token{}",
    "cache_read_per_million": "cache_read_input_token_cost{}",
    "cache_write_per_million": "cache_creation_input_token_cost{}",
}

Row = Mapping[str, Any]


def per_million(cost: Any) -> str | None:
    if cost is None:
        return None
    return format((Decimal(str(cost)) * 1_000_000).normalize(), "f")


def sibling_name(model_id: str) -> str:
    return SIBLING_SUFFIX.sub("", model_id)


def _character_checked(row: Row, side: str, suffix: str, key: str, corrections: Corrections) -> str | None:
    token = row.get(f"{side}_cost_per_token{suffix}")
    character = row.get(f"{side}_cost_per_character{suffix}")
    price = per_million(token)
    if token is None or not character:
        return price
    expected = per_million(Decimal(str(character)) * CHARACTERS_PER_TOKEN)
    if price is not None and expected is not None and Decimal(price) != Decimal(expected):
        corrections.note(
            FILE,
            key,
            f"{side}_per_million{suffix}",
            price,
            expected,
            CORRECTED,
            f"the per-token price contradicts the record's own per-character price ({per_million(character)}"
            f" $/M characters, at {CHARACTERS_PER_TOKEN} characters per token)",
        )
        return expected
    return price


def prices_of(row: Row, key: str, corrections: Corrections) -> dict[str, Any]:
    """The record's prices (per million tokens, as decimal strings), checked per character."""
    prices: dict[str, Any] = {
        "input_per_million": _character_checked(row, "input", "", key, corrections),
        "output_per_million": _character_checked(row, "output", "", key, corrections),
        "cache_read_per_million": per_million(row.get("cache_read_input_token_cost")),
        "cache_write_per_million": per_million(row.get("cache_creation_input_token_cost")),
        "price_per_query": per_million_query(row.get("input_cost_per_query")),
    }
    tiers = []
    for threshold, suffix in TIERS:
        tier: dict[str, Any] = {"above_input_tokens": threshold}
        for name, upstream in TIER_FIELDS.items():
            side = name.split("_")[0]
            if side in ("input", "output"):
                tier[name] = _character_checked(row, side, suffix, key, corrections)
            else:
                tier[name] = per_million(row.get(upstream.format(suffix)))
        if any(tier[name] is not None for name in TIER_FIELDS):
            tiers.append(tier)
    prices["price_tiers"] = tiers
    if prices["price_per_query"] is not None and row.get("mode") == "rerank":
        for name in ("input_per_million", "output_per_million"):
            if prices[name] is not None and Decimal(prices[name]) == 0:
                corrections.note(
                    FILE,
                    key,
                    name,
                    prices[name],
                    None,
                    REJECTED,
                    "a rerank model is priced per query (`price_per_query`); its per-token price of 0 is"
                    " not a price",
                )
                prices[name] = None
    return prices


def per_million_query(cost: Any) -> str | None:
    """A per-query price in US dollars (not scaled)."""
    return None if cost is None else format(Decimal(str(cost)).normalize(), "f")


def check_output_below_input(records: list[dict[str, Any]], corrections: Corrections) -> None:
    """Correct (from agreeing siblings) or reject output prices below the input price."""
    by_sibling: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for record in records:
        by_sibling.setdefault((record["provider"], sibling_name(record["model_id"])), []).append(record)
    for record in records:
        given_in, given_out = record["input_per_million"], record["output_per_million"]
        if record["mode"] not in TEXT_MODES or given_in is None or given_out is None:
            continue
        if not Decimal(given_out) < Decimal(given_in):
            continue
        key = f"{record['provider']}/{record['model_id']}"
        siblings = {
            other["output_per_million"]
            for other in by_sibling[(record["provider"], sibling_name(record["model_id"]))]
            if other is not record
            and other["input_per_million"] is not None
            and Decimal(other["input_per_million"]) == Decimal(given_in)
            and other["output_per_million"] is not None
            and Decimal(other["output_per_million"]) >= Decimal(given_in)
        }
        reason = f"output price {given_out} $/M is below the input price {given_in} $/M"
        if len(siblings) == 1:
            (value,) = siblings
            record["output_per_million"] = value
            corrections.note(
                FILE, key, "output_per_million", given_out, value, CORRECTED,
                f"{reason}; its siblings with the same input price all charge {value} $/M",
            )  # fmt: skip
        else:
            record["output_per_million"] = None
            corrections.note(
                FILE, key, "output_per_million", given_out, None, REJECTED,
                f"{reason}, and no agreeing sibling gives the right one",
            )  # fmt: skip
