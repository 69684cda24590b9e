"""Deployment plans: for a model on a hardware SKU, every compatible engine version and every
quantization it can run there, sized (``sizing``), laid out over the fewest devices (``fit``) and
priced at the cheapest current offer."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from budgraph.kit.db import AnyRow
from budgraph.kit.errors import BudgraphError, NotFound
from budgraph.kit.loaders import LoaderCache
from budgraph.models.shape import ModelShape
from budgraph.plans import repository
from budgraph.plans.fit import Demand, Device, Fit, Layout, smallest_fit
from budgraph.plans.formats import FORMATS
from budgraph.plans.loaders import (
    CurrentOffersByHardwareLoader,
    PricedHardwareByCurrencyLoader,
    ServingVersionsByArchitectureLoader,
)
from budgraph.plans.sizing import KvCacheSize, NotSized, WeightSize, kv_cache_size, weight_size
from budgraph.releases.errors import capability_tuple, reaches
from budgraph.releases.loaders import QuantizationSupportByEngineVersionLoader

MAX_DEVICES = 64
MAX_CONCURRENCY = 4096

# The share of device memory an engine takes for weights and KV cache by default, where the engine
# has one; other engines get the registry's setting (``plan_runtime_reserve``).
ENGINE_MEMORY_FRACTIONS: dict[str, tuple[float, str]] = {
    "vllm": (
        0.9,
        "vLLM's gpu_memory_utilization default (https://docs.vllm.ai/en/v0.9.1/configuration/engine_args.html)",
    ),
}


@dataclass(frozen=True)
class PlanRequest:
    """What a plan is asked for; checked by ``checked_request``."""

    context_length: int
    concurrency: int = 1
    max_devices: int = 8
    engine: str | None = None
    quantization: str | None = None
    kv_cache_dtype: str | None = None  # None: the weights' dtype
    currency: str = "USD"


@dataclass(frozen=True)
class PricedOffer:
    """The cheapest current way to rent the plan's devices."""

    provider_id: int
    provider_slug: str
    region: str
    instance_type: str
    devices_per_instance: int
    instances: int
    per_device_hour: Decimal
    per_hour: Decimal  # all instances
    currency: str
    as_of: date
    source_url: str | None


@dataclass(frozen=True)
class Plan:
    version: AnyRow  # a runtime-slice row: version columns, ``engine__*``, ``architecture__*``
    hardware: AnyRow
    quantization: str | None
    request: PlanRequest
    memory_fraction: float
    memory_fraction_source: str
    weights: WeightSize | None = None
    kv_cache: KvCacheSize | None = None
    fit: Fit | None = None
    reasons: list[str] = field(default_factory=list)
    offer: PricedOffer | None = None

    @property
    def fits(self) -> bool:
        return self.fit is not None and self.fit.fits and not self.reasons

    @property
    def dollars_per_million_output_tokens(self) -> Decimal | None:
        decode = self.fit.decode_tokens_per_second if self.fit else None
        if self.offer is None or not decode or not self.fits:
            return None
        cost = self.offer.per_hour / Decimal(decode * 3600) * 1_000_000
        return cost.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)

    @property
    def sort_key(self) -> tuple[bool, Decimal, int]:
        """Fitting plans first, then the cheapest per hour, the fewest devices (a stable sort keeps
        the runtime slice's order, by engine and highest version first, among equals)."""
        per_hour = self.offer.per_hour if self.offer and self.fits else Decimal("Infinity")
        devices = self.fit.layout.devices if self.fit and self.fits else 0
        return (not self.fits, per_hour, devices)


def memory_fraction(engine_slug: str, reserve_setting: float) -> tuple[float, str]:
    """The share of a device's memory the engine uses, and where that figure comes from."""
    known = ENGINE_MEMORY_FRACTIONS.get(engine_slug)
    if known is not None:
        return known
    return (
        1 - reserve_setting,
        f"the registry's runtime reserve of {reserve_setting:.0%} (plan_runtime_reserve)",
    )


def _device(hardware: AnyRow, compute: str) -> Device:
    flops = (
        hardware.peak_fp8_tflops
        if compute == "fp8" and hardware.peak_fp8_tflops
        else hardware.peak_bf16_tflops
    )
    return Device(
        name=hardware.name,
        memory_bytes=int(Decimal(hardware.memory_gb) * 10**9),
        bandwidth_bytes_per_second=float(hardware.memory_bandwidth_gbps) * 1e9
        if hardware.memory_bandwidth_gbps
        else None,
        peak_flops=float(flops) * 1e12 if flops else None,
    )


def cheapest_offer(offers: Sequence[AnyRow], layout: Layout) -> PricedOffer | None:
    """The offer that rents the layout's devices for least per hour: whole instances, each holding a
    whole tensor-parallel group (its ranks talk over the instance's own links; pipeline stages may
    sit in different instances)."""
    best: PricedOffer | None = None
    devices = layout.devices
    for offer in offers:
        if offer.devices_per_instance < layout.tensor_parallel:
            continue
        instances = math.ceil(devices / offer.devices_per_instance)
        per_hour = offer.on_demand_per_hour * instances * offer.devices_per_instance
        if best is None or per_hour < best.per_hour:
            best = PricedOffer(
                provider_id=offer.provider_id,
                provider_slug=offer.provider_slug,
                region=offer.region,
                instance_type=offer.instance_type,
                devices_per_instance=offer.devices_per_instance,
                instances=instances,
                per_device_hour=offer.on_demand_per_hour,
                per_hour=per_hour,
                currency=offer.currency,
                as_of=offer.as_of,
                source_url=offer.source_url,
            )
    return best


def _methods(shape: ModelShape, support: Sequence[AnyRow], request: PlanRequest) -> list[str | None]:
    """The quantizations to plan: the stored one for a quantized model; otherwise the weights as
    stored and every method the version runs that a plan can size (or just the one asked for)."""
    if request.quantization is not None:
        return [request.quantization]
    if shape.quantization_method is not None:
        return [shape.quantization_method]
    return [None, *sorted({row.method for row in support if row.method in FORMATS})]


def _refusal(version: AnyRow, hardware: AnyRow, method: str, support: Sequence[AnyRow]) -> str | None:
    """Why the version cannot run ``method`` on the SKU, if it cannot."""
    device = hardware.device_architecture
    rows = [row for row in support if row.method == method and row.device_architecture == device]
    name = f"{version.engine__name} {version.version} ({device})"
    if not rows:
        return f"{name} has no {method} support on record"
    if any(reaches(hardware.compute_capability, row.min_compute_capability) for row in rows):
        return None
    needed = min((row.min_compute_capability for row in rows), key=capability_tuple)
    has = hardware.compute_capability
    return f"{method} needs compute capability {needed} and the {hardware.name} has {has}"


def plan_one(
    shape: ModelShape,
    version: AnyRow,
    hardware: AnyRow,
    method: str | None,
    support: Sequence[AnyRow],
    offers: Sequence[AnyRow],
    request: PlanRequest,
    reserve_setting: float,
) -> Plan:
    fraction, fraction_source = memory_fraction(version.engine__slug, reserve_setting)
    plan = Plan(version, hardware, method, request, fraction, fraction_source)
    refusal = _refusal(version, hardware, method, support) if method is not None else None
    if refusal is not None:
        return replace(plan, reasons=[refusal])
    if hardware.memory_gb is None:
        return replace(plan, reasons=[f"the {hardware.name}'s device memory is not on record"])
    try:
        weights = weight_size(shape, method)
        kv = kv_cache_size(shape, request.kv_cache_dtype)
    except NotSized as error:
        return replace(plan, reasons=[str(error)])
    demand = Demand(
        context_length=request.context_length,
        concurrency=request.concurrency,
        max_devices=request.max_devices,
        memory_fraction=fraction,
        pipeline_parallel_supported=bool(version.architecture__supports_pipeline_parallelism),
    )
    fmt = FORMATS.get(method or "")
    compute = fmt.compute if fmt else "bf16"
    fit, reasons = smallest_fit(shape, weights, kv, _device(hardware, compute), demand)
    offer = cheapest_offer(offers, fit.layout) if fit is not None and fit.fits else None
    return replace(plan, weights=weights, kv_cache=kv, fit=fit, reasons=reasons, offer=offer)


async def plans_for(
    loaders: LoaderCache, shape: ModelShape, hardware: Sequence[AnyRow], request: PlanRequest, reserve: float
) -> list[Plan]:
    """Every plan of the model on each SKU, fitting ones first, cheapest first."""
    if shape.architecture is None:
        return []
    devices = {row.device_architecture for row in hardware}
    versions = [
        row
        for row in await loaders.get(ServingVersionsByArchitectureLoader).load(shape.architecture)
        if row.device_architecture in devices and request.engine in (None, row.engine__slug)
    ]
    support_loader = loaders.get(QuantizationSupportByEngineVersionLoader)
    support = await support_loader.load_many([row.id for row in versions])
    offers_loader = loaders.get(CurrentOffersByHardwareLoader, request.currency)
    offers = await offers_loader.load_many([row.id for row in hardware])
    plans = [
        plan_one(shape, version, sku, method, rows, sku_offers, request, reserve)
        for sku, sku_offers in zip(hardware, offers, strict=True)
        for version, rows in zip(versions, support, strict=True)
        if version.device_architecture == sku.device_architecture
        for method in _methods(shape, rows, request)
    ]
    return sorted(plans, key=lambda plan: plan.sort_key)


async def registered_shape(session: AsyncSession, uri: str) -> ModelShape | None:
    row = await repository.model_row(session, uri)
    return ModelShape.from_row(row) if row is not None else None


async def hardware_by_sku(session: AsyncSession, sku: str) -> AnyRow:
    row = await repository.hardware_by_sku(session, sku)
    if row is None:
        raise NotFound(f"no hardware SKU {sku!r}", field="hardware")
    return row


def checked_demand(*, concurrency: int, devices: int, quantization: str | None) -> str | None:
    """The arguments checked without the model (before it is looked up); the method, normalised."""
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise BudgraphError(f"`concurrency` must be 1 to {MAX_CONCURRENCY:,}", field="concurrency")
    if not 1 <= devices <= MAX_DEVICES:
        raise BudgraphError(f"`devices` must be 1 to {MAX_DEVICES}", field="devices")
    method = quantization.strip().lower() if quantization is not None else None
    if method == "":
        raise BudgraphError(
            "`quantization` is empty: give a method such as `fp8`, or leave it out", field="quantization"
        )
    return method


def checked_request(
    shape: ModelShape | None,
    *,
    context_length: int | None,
    concurrency: int,
    devices: int,
    engine: str | None,
    quantization: str | None,
    kv_cache_dtype: str | None,
) -> PlanRequest:
    """The plan request, its arguments checked (``shape``: the model planned, when there is one)."""
    method = checked_demand(concurrency=concurrency, devices=devices, quantization=quantization)
    limit = shape.context_length if shape is not None else None
    if context_length is None:
        if limit is None:
            known = shape.uri if shape is not None else "the model"
            raise BudgraphError(
                f"the context length of {known} is not known: give `contextLength`", field="contextLength"
            )
        context_length = limit
    if context_length < 1:
        raise BudgraphError("`contextLength` must be at least 1 token", field="contextLength")
    if limit is not None and context_length > limit:
        raise BudgraphError(
            f"`contextLength` {context_length:,} is beyond the model's context of {limit:,} tokens",
            field="contextLength",
        )
    return PlanRequest(
        context_length=context_length,
        concurrency=concurrency,
        max_devices=devices,
        engine=engine,
        quantization=method,
        kv_cache_dtype=kv_cache_dtype,
    )


async def cheapest_deployment(
    loaders: LoaderCache, shape: ModelShape, request: PlanRequest, reserve: float, per_token: bool
) -> Plan | None:
    """The cheapest fitting plan on any priced SKU: per hour, or per million output tokens."""
    hardware = await loaders.get(PricedHardwareByCurrencyLoader).load(request.currency)
    plans = [
        plan
        for plan in await plans_for(loaders, shape, hardware, request, reserve)
        if plan.fits and plan.offer
    ]
    if per_token:
        priced = [plan for plan in plans if plan.dollars_per_million_output_tokens is not None]
        return min(priced, key=lambda plan: plan.dollars_per_million_output_tokens or 0, default=None)
    return plans[0] if plans else None


@dataclass(frozen=True)
class ModelFit:
    shape: ModelShape
    model_id: int
    plan: Plan


@dataclass(frozen=True)
class FitPage:
    fits: list[ModelFit]
    end_cursor: str | None  # the uri to continue after
    has_next_page: bool
    examined: int


MODELS_EXAMINED = 400  # models planned per page at most (each a few engine versions x quantizations)
_BATCH = 100


async def models_that_fit(
    session: AsyncSession,
    loaders: LoaderCache,
    hardware: AnyRow,
    request: PlanRequest,
    reserve: float,
    first: int,
    after: str | None,
) -> FitPage:
    """Models, by uri, with a plan that fits ``request`` on the SKU, each with its cheapest plan (the
    first fitting one when the SKU has no price). Plans up to ``MODELS_EXAMINED`` models a page; a page
    cut there has fewer than ``first`` models and continues after the last model examined."""
    if hardware.memory_gb is None:
        return FitPage([], None, False, 0)
    budget = int(Decimal(hardware.memory_gb) * 10**9) * request.max_devices
    found: list[ModelFit] = []
    examined, cursor = 0, after
    while examined < MODELS_EXAMINED:
        limit = min(_BATCH, MODELS_EXAMINED - examined)
        rows = await repository.models_worth_planning(
            session, hardware.device_architecture, budget, cursor, limit
        )
        for row in rows:
            examined += 1
            cursor = row.uri
            shape = ModelShape.from_row(row)
            if shape.context_length is not None and shape.context_length < request.context_length:
                continue
            plans = [
                plan for plan in await plans_for(loaders, shape, [hardware], request, reserve) if plan.fits
            ]
            if plans:
                found.append(ModelFit(shape, row.id, plans[0]))
                if len(found) > first:
                    return FitPage(found[:first], found[first - 1].shape.uri, True, examined)
        if len(rows) < limit:
            return FitPage(found, found[-1].shape.uri if found else None, False, examined)
    return FitPage(found, cursor, True, examined)
