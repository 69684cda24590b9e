"""Providers (model APIs, gateways, compute clouds) and the cloud models they serve."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, Numeric, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from budgraph.db.base import Base, IdMixin, ProvenanceMixin, TimestampMixin, enum_check
from budgraph.db.enums import ProviderKind, ProviderModelMode

PRICE = Numeric(18, 8)


class Provider(IdMixin, TimestampMixin, ProvenanceMixin, Base):
    __tablename__ = "provider"
    __table_args__ = (
        CheckConstraint(enum_check("kind", ProviderKind), name="kind"),
        CheckConstraint("slug ~ '^[a-z0-9][a-z0-9_.-]*$'", name="slug_format"),
    )

    slug: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    homepage_url: Mapped[str | None] = mapped_column(Text)


class ProviderModel(IdMixin, TimestampMixin, ProvenanceMixin, Base):
    """A model served by a provider's API, with its per-million-token prices and limits."""

    __tablename__ = "provider_model"
    __table_args__ = (
        CheckConstraint(enum_check("mode", ProviderModelMode), name="mode"),
        CheckConstraint(
            "coalesce(input_per_million, 0) >= 0 AND coalesce(output_per_million, 0) >= 0"
            " AND coalesce(cache_read_per_million, 0) >= 0 AND coalesce(cache_write_per_million, 0) >= 0",
            name="prices_not_negative",
        ),
        CheckConstraint("coalesce(price_per_query, 0) >= 0", name="price_per_query_not_negative"),
        CheckConstraint("jsonb_typeof(price_tiers) = 'array'", name="price_tiers_array"),
        Index(None, "provider_id", "model_id", unique=True),
    )

    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id", ondelete="CASCADE"), nullable=False)
    model_id: Mapped[str] = mapped_column(Text, nullable=False)
    mode: Mapped[str] = mapped_column(Text, nullable=False)
    input_per_million: Mapped[Decimal | None] = mapped_column(PRICE)
    output_per_million: Mapped[Decimal | None] = mapped_column(PRICE)
    cache_read_per_million: Mapped[Decimal | None] = mapped_column(PRICE)
    cache_write_per_million: Mapped[Decimal | None] = mapped_column(PRICE)
    # Rerank (and search) models are priced per query, not per token.
    price_per_query: Mapped[Decimal | None] = mapped_column(PRICE)
    # Prices for long prompts: [{"above_input_tokens": 200000, "input_per_million": "6", ...}], by
    # threshold; decimals as strings so that they stay exact. See providers/tiers.py.
    price_tiers: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, server_default=text("'[]'::jsonb"), default=list
    )
    max_input_tokens: Mapped[int | None] = mapped_column(Integer)
    max_output_tokens: Mapped[int | None] = mapped_column(Integer)
    supports_function_calling: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    supports_vision: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    supports_reasoning: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    supports_prompt_caching: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    supports_response_schema: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    deprecation_date: Mapped[date | None] = mapped_column(Date)
