"""Writing what extraction found onto a model: each fact with its source, operator edits kept."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from budgraph import db
from budgraph.db.base import ProvenanceMixin
from budgraph.db.enums import Modality, ModelStatus
from budgraph.extraction.facts import ExtractedFacts
from budgraph.kit.clock import now
from budgraph.kit.db import RequestSession
from budgraph.kit.edits import apply_seed

# Model column <- extracted fact.
COLUMNS: dict[str, str] = {
    "architecture": "architecture",
    "model_type": "model_type",
    "parameter_count": "parameter_count",
    "active_parameter_count": "active_parameter_count",
    "weight_bytes": "weight_bytes",
    "context_length": "context_length",
    "layers": "layers",
    "hidden_size": "hidden_size",
    "attention_heads": "attention_heads",
    "kv_heads": "kv_heads",
    "head_dim": "head_dim",
    "vocab_size": "vocab_size",
    "dtype": "dtype",
    "sliding_window": "sliding_window",
    "sliding_window_layers": "sliding_window_layers",
    "kv_lora_rank": "kv_lora_rank",
    "qk_rope_head_dim": "qk_rope_head_dim",
    "intermediate_size": "intermediate_size",
    "experts_total": "experts_total",
    "experts_active": "experts_active",
    "quantization_method": "quantization_method",
    "quantization_bits": "quantization_bits",
    "kv_cache_bytes_per_token": "kv_cache_bytes_per_token",
    "pipeline_tag": "pipeline_tag",
    "gated": "gated",
}
LISTS = {"base_models": "base_models", "languages": "languages", "datasets": "datasets", "tags": "tags"}


async def license_for(session: RequestSession, names: list[str]) -> db.License | None:
    """The registry license a model card names, by key, name or any alias (case-insensitive)."""
    wanted = [name.strip().lower() for name in names if name and name.strip()]
    if not wanted:
        return None
    # The license table is small (about a hundred rows): match aliases here rather than in SQL.
    by_name: dict[str, db.License] = {}
    for row in (await session.scalars(select(db.License).order_by(db.License.id))).all():
        for alias in [row.key, row.name, *row.aliases]:
            by_name.setdefault(alias.lower(), row)
    return next((by_name[name] for name in wanted if name in by_name), None)


def _sources(facts: ExtractedFacts) -> dict[str, str]:
    names = {**COLUMNS, **LISTS, "modality": "modality", "licenses": "license"}
    return {names[fact]: source for fact, source in facts.provenance.items() if fact in names}


async def apply_facts(session: RequestSession, model: db.Model, facts: ExtractedFacts) -> dict[str, Any]:
    """Set the model's extracted fields (skipping fields an operator edited); returns a summary."""
    values: dict[str, Any] = {
        column: getattr(facts, fact) for fact, column in COLUMNS.items() if getattr(facts, fact) is not None
    }
    values.update({column: list(getattr(facts, fact) or []) for fact, column in LISTS.items()})
    if facts.modality in {m.value for m in Modality}:
        values["modality"] = facts.modality
    card_licenses = [*(facts.licenses or []), *([facts.license_name] if facts.license_name else [])]
    license = await license_for(session, card_licenses)
    values["license_name"] = facts.license_name or facts.license
    if license is not None:
        values["license_id"] = license.id
    elif facts.license:
        facts.warn(f"license {facts.license!r} is not in the registry's license table")
    row: ProvenanceMixin = model
    changed = apply_seed(row, values)
    model.fact_sources = _sources(facts)
    model.extraction_warnings = list(facts.warnings)
    model.extracted_at = now()
    model.extraction_error = None
    if model.status != ModelStatus.ARCHIVED.value:
        model.status = ModelStatus.READY.value
    await session.flush()
    return {
        "architecture": model.architecture,
        "parameter_count": model.parameter_count,
        "license": license.key if license else None,
        "changed_fields": sorted(changed),
        "warnings": list(facts.warnings),
    }


def record_extraction_failure(model: db.Model, reason: str) -> None:
    """The latest extraction failed: the model is FAILED (an archived one stays archived), with why.

    Facts of an earlier successful extraction are kept; ``extraction_error`` says they may be stale.
    """
    model.extraction_error = reason
    if model.status != ModelStatus.ARCHIVED.value:
        model.status = ModelStatus.FAILED.value
