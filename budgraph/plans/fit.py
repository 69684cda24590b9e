"""Whether a model fits a number of devices, how it is split across them, and how fast it can run
there at best.

Per device, the memory an engine may use is the device's memory times its memory fraction (vLLM's
``gpu_memory_utilization``; the rest is the runtime reserve: activations, CUDA graphs, the CUDA
context). The weights split evenly over all devices (tensor x pipeline parallel). The KV cache of a
sequence splits over the tensor-parallel ranks by key-value head, a rank holding at least one head
(GQA heads are replicated when there are more ranks than heads; the latent of multi-head latent
attention is not split at all), and over pipeline stages by layer.

Throughput bounds, both upper bounds that no engine exceeds:
* decode: each step reads every active weight once and every sequence's whole cache, from all
  devices' memory at their bandwidth: ``concurrency x bandwidth / bytes read per device per step``;
* prefill: two floating-point operations per active parameter per token, at the devices' peak dense
  throughput in the compute dtype.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from budgraph.models.shape import ModelShape
from budgraph.plans.sizing import KvCacheSize, WeightSize


@dataclass(frozen=True)
class Device:
    name: str
    memory_bytes: int
    bandwidth_bytes_per_second: float | None
    peak_flops: float | None  # dense, in the plan's compute dtype


@dataclass(frozen=True)
class Layout:
    tensor_parallel: int
    pipeline_parallel: int

    @property
    def devices(self) -> int:
        return self.tensor_parallel * self.pipeline_parallel


@dataclass(frozen=True)
class Demand:
    """What is asked of the deployment."""

    context_length: int
    concurrency: int
    max_devices: int
    memory_fraction: float  # of each device's memory the engine may use
    pipeline_parallel_supported: bool


@dataclass(frozen=True)
class DeviceMemory:
    total: int
    weights: int
    kv_cache: int
    reserve: int

    @property
    def free(self) -> int:
        """What is left (negative: the deployment does not fit)."""
        return self.total - self.reserve - self.weights - self.kv_cache


@dataclass(frozen=True)
class Fit:
    layout: Layout
    memory: DeviceMemory
    fits: bool
    reason: str | None  # why it does not fit, when it does not
    decode_tokens_per_second: float | None
    prefill_tokens_per_second: float | None


def tensor_parallel_allowed(shape: ModelShape, degree: int) -> bool:
    """The heads split evenly: attention heads by the degree, key-value heads by it or it by them."""
    if degree == 1:
        return True
    heads, kv = shape.attention_heads, shape.kv_heads or shape.attention_heads
    if not heads or heads % degree:
        return False
    if shape.kv_lora_rank:
        return True
    assert kv is not None
    return kv % degree == 0 if kv >= degree else degree % kv == 0


def layouts(shape: ModelShape, demand: Demand) -> Iterator[Layout]:
    """Every layout up to ``max_devices``: fewest devices first, then the widest tensor parallelism."""
    for devices in range(1, demand.max_devices + 1):
        for tensor in range(devices, 0, -1):
            if devices % tensor or not tensor_parallel_allowed(shape, tensor):
                continue
            pipeline = devices // tensor
            if pipeline > 1 and (not demand.pipeline_parallel_supported or pipeline > (shape.layers or 1)):
                continue
            yield Layout(tensor, pipeline)


def _kv_share(shape: ModelShape, kv: KvCacheSize, layout: Layout) -> float:
    """The fraction of one sequence's cache a device holds."""
    if kv.estimate.kind == "mla":
        heads_share = 1.0
    else:
        heads = shape.kv_heads or shape.attention_heads or 1
        heads_share = math.ceil(heads / layout.tensor_parallel) / heads
    layers = kv.estimate.layers
    return heads_share * math.ceil(layers / layout.pipeline_parallel) / layers


def _gb(value: float) -> str:
    return f"{value / 1e9:,.1f} GB"


def evaluate(
    shape: ModelShape, weights: WeightSize, kv: KvCacheSize, device: Device, demand: Demand, layout: Layout
) -> Fit:
    """The memory per device of one layout, whether it fits, and its throughput bounds."""
    sequence = kv.estimate.bytes_for(demand.context_length)
    kv_device = math.ceil(sequence * demand.concurrency * _kv_share(shape, kv, layout))
    weights_device = math.ceil(weights.bytes / layout.devices)
    reserve = device.memory_bytes - math.floor(device.memory_bytes * demand.memory_fraction)
    memory = DeviceMemory(device.memory_bytes, weights_device, kv_device, reserve)
    reason = None if memory.free >= 0 else _why_not(weights, device, demand, layout, memory)
    decode = None
    if device.bandwidth_bytes_per_second:
        read = weights.active_bytes / layout.devices + kv_device
        decode = demand.concurrency * device.bandwidth_bytes_per_second / read
    prefill = None
    active_parameters = shape.active_parameter_count or shape.parameter_count
    if device.peak_flops and active_parameters:
        prefill = layout.devices * device.peak_flops / (2 * active_parameters)
    return Fit(layout, memory, reason is None, reason, decode, prefill)


def _why_not(
    weights: WeightSize, device: Device, demand: Demand, layout: Layout, memory: DeviceMemory
) -> str:
    reserve = round((1 - demand.memory_fraction) * 100)
    where = f"{layout.devices} x {_gb(device.memory_bytes)} {device.name} with {reserve}% reserve"
    usable = memory.total - memory.reserve
    if memory.weights >= usable:
        return f"{_gb(weights.bytes)} of weights on {where} leaves no room for the KV cache"
    left, needed = _gb(usable - memory.weights), _gb(memory.kv_cache)
    sequences = f"{demand.context_length:,} tokens x {demand.concurrency} sequences"
    return (
        f"{_gb(weights.bytes)} of weights on {where} leave {left} per device for the KV cache;"
        f" {sequences} need {needed} per device"
    )


def smallest_fit(
    shape: ModelShape, weights: WeightSize, kv: KvCacheSize, device: Device, demand: Demand
) -> tuple[Fit | None, list[str]]:
    """The first layout that fits (fewest devices, widest tensor parallelism); otherwise the widest
    layout tried, with the reasons none fits."""
    widest: Fit | None = None
    for layout in layouts(shape, demand):
        fit = evaluate(shape, weights, kv, device, demand, layout)
        if fit.fits:
            return fit, []
        if widest is None or layout.devices > widest.layout.devices:
            widest = fit
    if widest is None:
        return None, ["no layout of the devices splits the model's attention heads"]
    reasons = [widest.reason or ""]
    if widest.layout.devices < demand.max_devices:
        heads = (
            f"{shape.attention_heads} attention heads and {shape.kv_heads or shape.attention_heads} KV heads"
        )
        pipeline = (
            "the architecture does not support pipeline parallelism"
            if not demand.pipeline_parallel_supported
            else "pipeline parallelism cannot make up the rest"
        )
        reasons.append(
            f"{demand.max_devices} devices: no tensor-parallel degree above {widest.layout.tensor_parallel}"
            f" divides the {heads}, and {pipeline}"
        )
    return widest, reasons
