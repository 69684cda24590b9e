"""Exact parameter counts from safetensors headers, in logical (unquantized) parameters.

* Packed quantized weights count the values they pack: a GPTQ ``qweight`` is int32 ``[in*bits/32, out]``
  (packed along the input dim), an AWQ one int32 ``[in, out*bits/32]`` (packed along the output dim), a
  compressed-tensors ``weight_packed`` int32 ``[out, in*bits/32]``; each holds ``numel * 32 / bits`` values.
* Quantization side tensors (``qzeros``, ``scales``, ``g_idx``, ``weight_scale``, ``weight_zero_point``,
  ``weight_shape``, bitsandbytes ``absmax``/``quant_state``...) are not parameters.
* Buffers (``position_ids``, ``rotary_emb.inv_freq``, BatchNorm statistics, integer masks) are not either.
* MoE: expert tensors (``.experts.N.``, ``block_sparse_moe.experts``, fused ``.experts.*``) count in full in
  the total and by ``active/total`` in the active count; shared experts are always active.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from budgraph.extraction.safetensors_headers import DTYPE_BITS, FLOAT_DTYPES, TensorInfo

BUFFER_LEAVES = frozenset(
    {"position_ids", "token_type_ids", "inv_freq", "num_batches_tracked", "running_mean", "running_var"}
    | {"masked_bias", "_float_tensor"}
)
QUANT_AUX_LEAVES = frozenset(
    {"qzeros", "scales", "g_idx", "weight_scale", "weight_zero_point", "weight_shape", "weight_g_idx"}
    | {"weight_global_scale", "weight_scale_inv", "weight_scale_2", "input_scale", "input_global_scale"}
    | {"input_zero_point", "output_scale", "k_scale", "v_scale", "SCB", "weight_format", "absmax"}
    | {"quant_map", "nested_absmax", "nested_quant_map"}
)
PACKED_LEAVES = frozenset({"qweight", "weight_packed"})
# Methods that store two 4-bit values per uint8 in a tensor still named like a weight.
BYTE_PACKED_METHODS = frozenset({"bitsandbytes", "mxfp4", "modelopt", "nvfp4", "fp4"})
EXPERT_TENSOR = re.compile(r"(?:^|\.)experts\.(?:(\d+)\.)?")


@dataclass
class ParameterCount:
    total: int = 0
    active: int | None = None
    weight_bytes: int = 0
    expert_parameters: int = 0
    by_dtype: Counter[str] = field(default_factory=Counter)  # logical parameters per stored dtype
    buffers: list[str] = field(default_factory=list)
    quantization_tensors: int = 0
    warnings: list[str] = field(default_factory=list)


def _split(name: str) -> tuple[str, str]:
    module, _, leaf = name.rpartition(".")
    return module, leaf


def infer_packed_bits(tensors: dict[str, TensorInfo]) -> int | None:
    """Bits of GPTQ/AWQ weights from their side tensors: ``scales`` has ``out`` columns and ``qzeros``
    ``out*bits/32``, in both layouts."""
    for name in tensors:
        module, leaf = _split(name)
        scales, zeros = tensors.get(f"{module}.scales"), tensors.get(f"{module}.qzeros")
        if leaf == "qweight" and scales and zeros and scales.shape and zeros.shape and zeros.shape[-1]:
            pack, remainder = divmod(scales.shape[-1], zeros.shape[-1])
            if remainder == 0 and pack and 32 % pack == 0:
                return 32 // pack
    return None


def count_parameters(
    tensors: Iterable[TensorInfo],
    *,
    quantization_method: str | None = None,
    quantization_bits: int | None = None,
    experts_total: int | None = None,
    experts_active: int | None = None,
) -> ParameterCount:
    by_name = {tensor.name: tensor for tensor in tensors}
    result = ParameterCount(weight_bytes=sum(tensor.nbytes for tensor in by_name.values()))
    packed_modules = {_split(name)[0] for name in by_name if _split(name)[1] in PACKED_LEAVES}
    bits = quantization_bits
    if packed_modules and bits is None:
        bits = infer_packed_bits(by_name)
        if bits is None:
            bits = 4
            result.warnings.append("packed quantized weights of unknown width: 4 bits assumed")
    expert_indices: set[int] = set()
    for tensor in by_name.values():
        logical = _logical_parameters(tensor, quantization_method, bits, packed_modules, result)
        if logical == 0:
            continue
        result.total += logical
        result.by_dtype[tensor.dtype] += logical
        match = EXPERT_TENSOR.search(tensor.name)
        if match:
            result.expert_parameters += logical
            if match.group(1) is not None:
                expert_indices.add(int(match.group(1)))
    _active(result, experts_total or (max(expert_indices) + 1 if expert_indices else None), experts_active)
    return result


def _logical_parameters(
    tensor: TensorInfo, method: str | None, bits: int | None, packed_modules: set[str], result: ParameterCount
) -> int:
    module, leaf = _split(tensor.name)
    if leaf in BUFFER_LEAVES:
        result.buffers.append(tensor.name)
        return 0
    side_tensor = leaf in QUANT_AUX_LEAVES and (method is not None or module in packed_modules)
    block_scales = leaf.endswith("_scales") and method in BYTE_PACKED_METHODS  # MXFP4 "*_blocks" scales
    if ".quant_state." in tensor.name or side_tensor or block_scales:
        result.quantization_tensors += 1
        return 0
    if leaf in PACKED_LEAVES and tensor.dtype not in FLOAT_DTYPES and bits:
        return tensor.numel * DTYPE_BITS[tensor.dtype] // bits
    byte_packed = method in BYTE_PACKED_METHODS and bits == 4 and tensor.dtype in ("U8", "I8")
    if byte_packed and (leaf == "weight" or leaf.endswith("_blocks")):
        return tensor.numel * 2
    if tensor.dtype not in FLOAT_DTYPES and not (method is not None and leaf == "weight"):
        result.buffers.append(tensor.name)  # integer and boolean tensors are never trained parameters
        return 0
    return tensor.numel


def _active(result: ParameterCount, experts_total: int | None, experts_active: int | None) -> None:
    if not result.expert_parameters:
        if experts_total and experts_total > 1:
            result.warnings.append("the config declares experts but no expert tensors were recognised")
        else:
            result.active = result.total
        return
    if not experts_total or not experts_active:
        result.warnings.append("expert tensors found but the number of active experts is unknown")
        return
    dense = result.total - result.expert_parameters
    result.active = dense + result.expert_parameters * experts_active // experts_total
