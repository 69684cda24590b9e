"""How many bits one weight takes in each quantization format a plan can size, scales included.

A plan for a model stored in a format uses the exact bytes of its safetensors headers. For a format
the model is not stored in (a quantized variant of it), the weights are sized from the parameter
count: the linear layers at the format's bits plus its scales, the input embedding kept at 16 bits
(engines do not quantize it). Formats whose width depends on the checkpoint (compressed-tensors,
GGUF file types, ...) are sized only when the model is stored in them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WeightFormat:
    method: str
    bits: int  # of one quantized weight
    group_size: int | None  # weights sharing one scale (None: per tensor or per channel, negligible)
    scale_bits: int  # bits of the scale (and zero point) stored per group
    compute: str  # "bf16" (weight-only: dequantized, multiplied in 16 bits) or "fp8"
    source_url: str
    quantized_at_load: bool = False  # engines can quantize a 16-bit checkpoint to it when loading

    @property
    def bits_per_weight(self) -> float:
        """Bits per weight with the scales: ``bits + scale_bits / group_size``."""
        return self.bits + (self.scale_bits / self.group_size if self.group_size else 0.0)

    @property
    def formula(self) -> str:
        if not self.group_size:
            return f"{self.bits} bits per weight"
        return (
            f"{self.bits} bits per weight + {self.scale_bits} bits of scale per {self.group_size} weights"
            f" = {self.bits_per_weight:g}"
        )


_VLLM = "https://github.com/vllm-project/vllm/blob/v0.9.1/vllm/model_executor/layers/quantization/"
_GPTQ = _VLLM + "gptq.py"  # weight_bits 4 and group_size 128 by default; fp16 scales, packed zeros
_AWQ = _VLLM + "awq.py"
_FP8 = _VLLM + "fp8.py"  # per-tensor scales; dynamic quantization of a 16-bit checkpoint at load
_BNB = "https://arxiv.org/abs/2305.14314"  # QLoRA: NF4, one 32-bit absmax per 64 weights = 0.5 bit
_MX = "https://www.opencompute.org/documents/ocp-microscaling-formats-mx-v1-0-spec-final-pdf"
_NVFP4 = (
    "https://developer.nvidia.com/blog/introducing-nvfp4-for-efficient-and-accurate-low-precision-inference/"
)


def _grouped_int4(method: str, source_url: str) -> WeightFormat:
    """A four-bit group-wise format: a 16-bit scale and a 4-bit zero point per group of 128."""
    return WeightFormat(method, 4, 128, 20, "bf16", source_url)


FORMATS: dict[str, WeightFormat] = {
    f.method: f
    for f in (
        _grouped_int4("gptq", _GPTQ),
        _grouped_int4("gptq_marlin", _VLLM + "gptq_marlin.py"),
        _grouped_int4("awq", _AWQ),
        _grouped_int4("awq_marlin", _VLLM + "awq_marlin.py"),
        WeightFormat("fp8", 8, None, 0, "fp8", _FP8, quantized_at_load=True),
        WeightFormat("fbgemm_fp8", 8, None, 0, "fp8", _VLLM + "fbgemm_fp8.py"),
        WeightFormat("ptpc_fp8", 8, None, 0, "fp8", _VLLM + "ptpc_fp8.py", quantized_at_load=True),
        WeightFormat("bitsandbytes", 4, 64, 32, "bf16", _BNB, quantized_at_load=True),
        WeightFormat("mxfp4", 4, 32, 8, "bf16", _MX),
        WeightFormat("modelopt_fp4", 4, 16, 8, "bf16", _NVFP4),
    )
}
