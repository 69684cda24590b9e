"""`budgraph plan MODEL --hardware SKU`: the deployment plans of the GraphQL field, as a table."""

from __future__ import annotations

from dataclasses import dataclass

from budgraph.auth.commands import in_unit_of_work
from budgraph.kit.db import RequestSession
from budgraph.kit.errors import NotFound
from budgraph.kit.loaders import LoaderCache
from budgraph.plans import service
from budgraph.plans.service import Plan
from budgraph.settings import Settings

HEADER = ("engine version", "quantization", "fits", "devices", "weights", "KV/device", "free/device",
          "decode tok/s", "prefill tok/s", "$/hour", "$/M out")  # fmt: skip


@dataclass(frozen=True)
class PlanAsked:
    model: str
    hardware: str
    devices: int = 8
    context_length: int | None = None
    concurrency: int = 1
    engine: str | None = None
    quantization: str | None = None
    kv_cache_dtype: str | None = None


async def plans_now(settings: Settings, asked: PlanAsked) -> tuple[list[Plan], str]:
    """The plans, read in one transaction, and the model's uri as registered."""

    async def work(session: RequestSession) -> tuple[list[Plan], str]:
        shape = await service.registered_shape(session, asked.model)
        if shape is None:
            raise NotFound(f"no registered model {asked.model!r}", field="model")
        request = service.checked_request(
            shape,
            context_length=asked.context_length,
            concurrency=asked.concurrency,
            devices=asked.devices,
            engine=asked.engine,
            quantization=asked.quantization,
            kv_cache_dtype=asked.kv_cache_dtype,
        )
        sku = await service.hardware_by_sku(session, asked.hardware)
        plans = await service.plans_for(
            LoaderCache(session), shape, [sku], request, settings.plan_runtime_reserve
        )
        return plans, shape.uri

    return await in_unit_of_work(settings, work)


def _gb(value: int) -> str:
    return f"{value / 1e9:,.1f} GB"


def _row(plan: Plan) -> tuple[str, ...]:
    version = f"{plan.version.engine__slug} {plan.version.version} ({plan.version.device_architecture})"
    fit = plan.fit
    layout = (
        f"{fit.layout.devices} ({fit.layout.tensor_parallel}x{fit.layout.pipeline_parallel})" if fit else "-"
    )
    memory = fit.memory if fit else None
    offer = plan.offer
    per_million = plan.dollars_per_million_output_tokens
    return (
        version,
        plan.quantization or "as stored",
        "yes" if plan.fits else "no",
        layout,
        _gb(plan.weights.bytes) if plan.weights else "-",
        _gb(memory.kv_cache) if memory else "-",
        _gb(memory.free) if memory else "-",
        f"{fit.decode_tokens_per_second:,.1f}" if fit and fit.decode_tokens_per_second else "-",
        f"{fit.prefill_tokens_per_second:,.0f}" if fit and fit.prefill_tokens_per_second else "-",
        f"{offer.per_hour.normalize():f} {offer.currency} ({offer.provider_slug} {offer.region})"
        if offer
        else "-",
        f"{per_million:f}" if per_million is not None else "-",
    )


def table(plans: list[Plan], uri: str, hardware: str) -> list[str]:
    """The plans as aligned text lines, each refusal's reasons under its row."""
    if not plans:
        return [f"no active engine version serves {uri} on {hardware}"]
    request = plans[0].request
    lines = [
        f"{uri} on {hardware}: {request.context_length:,} tokens x {request.concurrency} sequences,"
        f" at most {request.max_devices} devices",
    ]
    rows = [HEADER, *(_row(plan) for plan in plans)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        if index and plans[index - 1].reasons:
            lines.extend(f"    - {reason}" for reason in plans[index - 1].reasons)
    return lines
