"""GraphQL types of deployment plans: what a model needs on a hardware SKU, with which engine, and
what it costs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from budgraph.compatibility.rulebook import RuleBook
from budgraph.engines.types import EngineVersion
from budgraph.graphql.common import BigInt
from budgraph.graphql.context import Info
from budgraph.hardware.types import Hardware
from budgraph.models.types import Model
from budgraph.plans.service import Plan, PricedOffer
from budgraph.providers.loaders import ProviderByIdLoader
from budgraph.providers.types import Provider


@strawberry.type(description="The memory of one device in a plan, in bytes (the most loaded device).")
class PlanDeviceMemory:
    total_bytes: BigInt = strawberry.field(description="The device's memory (its nominal GB x 10^9).")
    weights_bytes: BigInt = strawberry.field(description="Its share of the weights.")
    kv_cache_bytes: BigInt = strawberry.field(
        description="Its share of the KV cache of every sequence at `contextLength` tokens."
    )
    reserve_bytes: BigInt = strawberry.field(
        description="Kept for activations, CUDA graphs and the runtime: the memory the engine does not take"
        " (1 - `memoryFraction`)."
    )
    free_bytes: BigInt = strawberry.field(
        description="What is left after weights, KV cache and reserve; negative when the plan does not fit."
    )


@strawberry.type(description="The cheapest current offer that rents a plan's devices (whole instances).")
class PlanOffer:
    provider_pk: strawberry.Private[int]
    region: str = strawberry.field(description="The provider's region.")
    instance_type: str = strawberry.field(description="The instance type rented.")
    instances: int = strawberry.field(description="How many instances give the plan's devices.")
    devices_per_instance: int = strawberry.field(description="Devices in one instance.")
    per_device_hour: Decimal = strawberry.field(description="On-demand price of one device for an hour.")
    per_hour: Decimal = strawberry.field(description="On-demand price of all the instances for an hour.")
    currency: str = strawberry.field(description="ISO 4217 currency of the prices.")
    as_of: date = strawberry.field(description="The date of the price.")
    source_url: str | None = strawberry.field(description="Where the price was read.")

    @strawberry.field(description="The provider of the offer.")
    async def provider(self, info: Info) -> Provider:
        row = await info.context.loaders.get(ProviderByIdLoader).load(self.provider_pk)
        assert row is not None, "an offer's provider is a foreign key"
        return Provider.from_row(row)

    @classmethod
    def of(cls, offer: PricedOffer) -> PlanOffer:
        return cls(
            provider_pk=offer.provider_id,
            region=offer.region,
            instance_type=offer.instance_type,
            instances=offer.instances,
            devices_per_instance=offer.devices_per_instance,
            per_device_hour=offer.per_device_hour,
            per_hour=offer.per_hour,
            currency=offer.currency,
            as_of=offer.as_of,
            source_url=offer.source_url,
        )


@strawberry.type(
    description="One way to deploy a model on a hardware SKU: an engine version, a quantization, the"
    " fewest devices it fits on, its memory per device, throughput bounds and price, or why it cannot run."
)
class DeploymentPlan:
    engine_version: EngineVersion = strawberry.field(
        description="The engine version (a build for the device)."
    )
    hardware: Hardware = strawberry.field(description="The hardware SKU planned on.")
    container_image: str = strawberry.field(description="The image to run.")
    tool_call_parser: str | None = strawberry.field(description="The tool-call parser to start it with.")
    tool_chat_template: str | None = strawberry.field(
        description="The chat template to start it with for that parser, when its rule names one."
    )
    reasoning_parser: str | None = strawberry.field(description="The reasoning parser to start it with.")
    quantization: str | None = strawberry.field(
        description="The quantization method; null: the weights as stored (unquantized)."
    )
    fits: bool = strawberry.field(description="Whether the model runs this way on at most `devices` devices.")
    reasons: list[str] = strawberry.field(
        description="Why it cannot run or does not fit, in words; empty when it fits."
    )
    devices: int | None = strawberry.field(
        description="The fewest devices it fits on; when it does not fit, the most tried."
    )
    tensor_parallel: int | None = strawberry.field(
        description="Tensor-parallel degree: it divides the attention heads, and the key-value heads divide"
        " it or it them."
    )
    pipeline_parallel: int | None = strawberry.field(
        description="Pipeline-parallel degree; above 1 only where the architecture supports it."
    )
    weights_bytes: BigInt | None = strawberry.field(
        description="Bytes of all the weights in this quantization."
    )
    weights_exact: bool = strawberry.field(
        description="Whether `weightsBytes` is the checkpoint's (safetensors headers) or estimated from the"
        " parameter count."
    )
    weights_formula: str | None = strawberry.field(description="How `weightsBytes` was found.")
    kv_cache_bytes_per_token: BigInt | None = strawberry.field(
        description="KV-cache bytes of one token of context in the cache dtype (all layers, all devices)."
    )
    kv_cache_formula: str | None = strawberry.field(description="How `kvCacheBytesPerToken` was found.")
    memory_fraction: float = strawberry.field(
        description="The share of each device's memory the engine takes for weights and KV cache."
    )
    memory_fraction_source: str = strawberry.field(description="Where `memoryFraction` comes from.")
    memory_per_device: PlanDeviceMemory | None = strawberry.field(
        description="The memory of the most loaded device, in bytes."
    )
    decode_tokens_per_second: float | None = strawberry.field(
        description="Upper bound of output tokens per second, all sequences together: memory bandwidth over"
        " the bytes one decode step reads per device (active weights and every sequence's cache)."
    )
    prefill_tokens_per_second: float | None = strawberry.field(
        description="Upper bound of prompt tokens per second: the devices' peak dense FLOPS in the compute"
        " dtype over 2 x active parameters."
    )
    offer: PlanOffer | None = strawberry.field(
        description="The cheapest current on-demand offer for the devices (when the plan fits)."
    )
    dollars_per_million_output_tokens: Decimal | None = strawberry.field(
        description="The offer's price per hour over the decode bound: a floor of the cost per million output"
        " tokens (in the offer's currency)."
    )

    @classmethod
    def of(cls, plan: Plan, book: RuleBook, model_id: str) -> DeploymentPlan:
        row = plan.version
        tool = book.choose(
            row.engine_id, "tool", model_id, row.tool_call_parsers, row.architecture__default_tool_call_parser
        )
        reasoning = book.choose(
            row.engine_id,
            "reasoning",
            model_id,
            row.reasoning_parsers,
            row.architecture__default_reasoning_parser,
        )
        fit = plan.fit
        memory = fit.memory if fit else None
        return cls(
            engine_version=EngineVersion.from_row(row),
            hardware=Hardware.from_row(plan.hardware),
            container_image=row.container_image,
            tool_call_parser=tool.parser,
            tool_chat_template=tool.chat_template,
            reasoning_parser=reasoning.parser,
            quantization=plan.quantization,
            fits=plan.fits,
            reasons=list(plan.reasons),
            devices=fit.layout.devices if fit else None,
            tensor_parallel=fit.layout.tensor_parallel if fit else None,
            pipeline_parallel=fit.layout.pipeline_parallel if fit else None,
            weights_bytes=BigInt(plan.weights.bytes) if plan.weights else None,
            weights_exact=bool(plan.weights and plan.weights.exact),
            weights_formula=plan.weights.formula if plan.weights else None,
            kv_cache_bytes_per_token=BigInt(plan.kv_cache.bytes_per_token) if plan.kv_cache else None,
            kv_cache_formula=plan.kv_cache.formula if plan.kv_cache else None,
            memory_fraction=plan.memory_fraction,
            memory_fraction_source=plan.memory_fraction_source,
            memory_per_device=PlanDeviceMemory(
                total_bytes=BigInt(memory.total),
                weights_bytes=BigInt(memory.weights),
                kv_cache_bytes=BigInt(memory.kv_cache),
                reserve_bytes=BigInt(memory.reserve),
                free_bytes=BigInt(memory.free),
            )
            if memory
            else None,
            decode_tokens_per_second=_rounded(fit.decode_tokens_per_second) if fit else None,
            prefill_tokens_per_second=_rounded(fit.prefill_tokens_per_second) if fit else None,
            offer=PlanOffer.of(plan.offer) if plan.offer else None,
            dollars_per_million_output_tokens=plan.dollars_per_million_output_tokens,
        )


def _rounded(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


@strawberry.type(description="A model that fits a hardware SKU, with its cheapest plan there.")
class ModelFit:
    model: Model = strawberry.field(description="The model.")
    plan: DeploymentPlan = strawberry.field(
        description="Its cheapest fitting plan on the SKU (the first fitting one when the SKU has no price)."
    )


@strawberry.type(
    description="A page of the models that fit a SKU, by uri. A page plans a bounded number of models: it may"
    " hold fewer than asked for and still have a next page."
)
class ModelsThatFit:
    nodes: list[ModelFit] = strawberry.field(description="The models of this page that fit, by uri.")
    end_cursor: str | None = strawberry.field(
        description="Give it as `after` for the next page: the uri of the last model this page looked at."
    )
    has_next_page: bool = strawberry.field(description="Whether more models are left to look at.")
    examined: int = strawberry.field(description="How many models this page planned.")
