"""Long-prompt price tiers of a provider model: the prices that apply instead of the base prices when
the prompt is longer than a threshold (e.g. above 128K or 200K input tokens).

Stored as a JSON array on the model, ordered by threshold, decimals as strings (exact).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from budgraph import db
from budgraph.kit.decimals import checked_amount
from budgraph.kit.errors import BudgraphError

TIER_PRICES = ("input_per_million", "output_per_million", "cache_read_per_million", "cache_write_per_million")


@dataclass(frozen=True)
class PriceTier:
    above_input_tokens: int
    input_per_million: Decimal | None = None
    output_per_million: Decimal | None = None
    cache_read_per_million: Decimal | None = None
    cache_write_per_million: Decimal | None = None

    def stored(self) -> dict[str, Any]:
        prices = {name: getattr(self, name) for name in TIER_PRICES}
        return {
            "above_input_tokens": self.above_input_tokens,
            **{
                name: None if value is None else format(value.normalize(), "f")
                for name, value in prices.items()
            },
        }

    @classmethod
    def from_stored(cls, value: dict[str, Any]) -> PriceTier:
        prices = {name: None if value.get(name) is None else Decimal(value[name]) for name in TIER_PRICES}
        return cls(above_input_tokens=int(value["above_input_tokens"]), **prices)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def checked_tiers(tiers: list[PriceTier], field: str = "priceTiers") -> list[dict[str, Any]]:
    """The tiers as stored: thresholds positive and distinct, prices exact, at least one per tier."""
    seen: set[int] = set()
    for index, tier in enumerate(tiers):
        where = f"{field}[{index}]"
        if tier.above_input_tokens <= 0:
            raise BudgraphError(
                f"`{where}.aboveInputTokens` must be positive (got {tier.above_input_tokens})",
                field=f"{where}.aboveInputTokens",
            )
        if tier.above_input_tokens in seen:
            raise BudgraphError(
                f"`{field}` has two tiers above {tier.above_input_tokens} tokens",
                field=f"{where}.aboveInputTokens",
            )
        seen.add(tier.above_input_tokens)
        for name in TIER_PRICES:
            checked_amount(getattr(tier, name), getattr(db.ProviderModel, name), f"{where}.{_camel(name)}")
        if all(getattr(tier, name) is None for name in TIER_PRICES):
            raise BudgraphError(f"`{where}` gives no price", field=where)
    return [tier.stored() for tier in sorted(tiers, key=lambda t: t.above_input_tokens)]
