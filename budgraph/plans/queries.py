"""Root query field of deployment plans."""

from __future__ import annotations

from typing import Annotated

import strawberry

from budgraph.compatibility.loaders import RuleBookLoader
from budgraph.graphql.context import Info
from budgraph.kit.errors import NotFound
from budgraph.models.lookup import model_shape
from budgraph.models.shape import ModelShape
from budgraph.plans import service
from budgraph.plans.arguments import (
    KvCacheDtype,
    PlanConcurrency,
    PlanContextLength,
    PlanDevices,
    PlanEngine,
    PlanKvCacheDtype,
    PlanQuantization,
)
from budgraph.plans.types import DeploymentPlan


async def planned_shape(info: Info, model: str) -> ModelShape:
    """The model a plan is for: registered, or read from the Hub and recorded for extraction (see
    ``models.lookup``); a typed error when it is not known or its architecture is not."""
    shape = await model_shape(info.context, model)
    if shape.architecture is None:
        raise NotFound(
            f"the architecture of {model!r} is not known yet (extract the model first)", field="model"
        )
    return shape


@strawberry.type
class PlanQueries:
    @strawberry.field(
        description="How a model can run on a hardware SKU: for each compatible engine version and each"
        " quantization it can run there, whether it fits on at most `devices` devices, the memory per device"
        " (weights, KV cache, reserve), the parallelism, image and parsers, throughput bounds and the"
        " cheapest current price; or why it cannot. Fitting plans first, cheapest per hour first."
    )
    async def deployment_plans(
        self,
        info: Info,
        model: Annotated[
            str,
            strawberry.argument(
                description="A model id, e.g. `Qwen/Qwen2.5-7B-Instruct`: a registered model, or a Hub"
                " repository read from its config files (and recorded for extraction)."
            ),
        ],
        hardware: Annotated[
            str, strawberry.argument(description="A hardware SKU, e.g. `nvidia-h100-sxm-80gb`.")
        ],
        devices: PlanDevices = 8,
        context_length: PlanContextLength = None,
        concurrency: PlanConcurrency = 1,
        engine: PlanEngine = None,
        quantization: PlanQuantization = None,
        kv_cache_dtype: PlanKvCacheDtype = KvCacheDtype.AUTO,
    ) -> list[DeploymentPlan]:
        session = info.context.session
        # What needs no model first: a bad argument never costs a Hub read
        service.checked_demand(concurrency=concurrency, devices=devices, quantization=quantization)
        sku = await service.hardware_by_sku(session, hardware)
        shape = await planned_shape(info, model)
        request = service.checked_request(
            shape,
            context_length=context_length,
            concurrency=concurrency,
            devices=devices,
            engine=engine,
            quantization=quantization,
            kv_cache_dtype=kv_cache_dtype.dtype,
        )
        reserve = info.context.settings.plan_runtime_reserve
        plans = await service.plans_for(info.context.loaders, shape, [sku], request, reserve)
        book = await info.context.loaders.get(RuleBookLoader, info.context.rule_books).load(0)
        return [DeploymentPlan.of(plan, book, shape.uri) for plan in plans]
