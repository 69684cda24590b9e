"""Arguments of the plan fields (``deploymentPlans``, ``Hardware.modelsThatFit``,
``Model.cheapestDeployment``): one definition each, so the three read the same."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import strawberry


@strawberry.enum(description="The element type of the KV cache a plan sizes.")
class KvCacheDtype(Enum):
    AUTO = "auto"
    FLOAT16 = "float16"
    BFLOAT16 = "bfloat16"
    FP8 = "fp8"

    @property
    def dtype(self) -> str | None:
        """The dtype name sizing takes (None: the weights' dtype)."""
        return None if self is KvCacheDtype.AUTO else self.value


PlanContextLength = Annotated[
    int | None,
    strawberry.argument(
        description="Tokens of context per sequence (prompt and output) to hold in the KV cache; default:"
        " the model's whole context length."
    ),
]
PlanConcurrency = Annotated[
    int, strawberry.argument(description="Sequences served at once, each with `contextLength` tokens cached.")
]
PlanDevices = Annotated[
    int,
    strawberry.argument(description="At most this many devices (tensor x pipeline parallel), 1 to 64."),
]
PlanQuantization = Annotated[
    str | None,
    strawberry.argument(
        description="Only this quantization method (e.g. `fp8`, `awq`); default: the model's own for a"
        " quantized model, else the weights as stored and every method the engine version can run on"
        " the device that a plan can size."
    ),
]
PlanKvCacheDtype = Annotated[
    KvCacheDtype, strawberry.argument(description="The KV cache's element type (AUTO: the weights' dtype).")
]
PlanEngine = Annotated[str | None, strawberry.argument(description="Only versions of this engine (slug).")]


@strawberry.enum(description="What makes a deployment the cheapest.")
class CheapestBy(Enum):
    PER_HOUR = "per_hour"
    PER_MILLION_OUTPUT_TOKENS = "per_million_output_tokens"
