"""GraphQL pieces shared by every domain: enums of the stored vocabularies, ordering, provenance."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

from budgraph.db.base import Origin
from budgraph.db.enums import (
    ApiKeyScope,
    ChangeOperation,
    DeviceArchitecture,
    Endpoint,
    EngineVersionStatus,
    FileScanStatus,
    JobKind,
    JobStatus,
    LicenseKind,
    MatchType,
    Modality,
    ModelSource,
    ModelStatus,
    ParserRuleType,
    ProviderKind,
    ProviderModelMode,
    ScanStatus,
    Severity,
)

strawberry.enum(
    DeviceArchitecture, description="The device family an engine build or a hardware SKU targets."
)
strawberry.enum(
    EngineVersionStatus,
    description="Lifecycle of an engine version: active, deprecated (still served), yanked (do not use).",
)
strawberry.enum(Endpoint, description="An inference API an engine version serves.")
strawberry.enum(ParserRuleType, description="What a parser rule chooses.")
strawberry.enum(MatchType, description="How a parser rule's pattern matches a model id.")
strawberry.enum(ModelSource, description="Where a model's files come from.")
strawberry.enum(Modality, description="What a model takes in and gives out.")
strawberry.enum(
    ModelStatus,
    description="Lifecycle of a registered model: REGISTERED (not extracted yet), READY (facts"
    " extracted), FAILED (the latest extraction failed; see `extractionError`), ARCHIVED.",
)
strawberry.enum(LicenseKind, description="The family of terms a license belongs to.")
strawberry.enum(ProviderKind, description="What a provider offers.")
strawberry.enum(ProviderModelMode, description="The API a cloud model is served on.")
strawberry.enum(ChangeOperation, description="What happened to an entity.")
strawberry.enum(
    ApiKeyScope, description="What an API key may do: read < write < admin (each includes the lower)."
)
strawberry.enum(Origin, description="Who first wrote a row.")
strawberry.enum(JobKind, description="What a background job does.")
strawberry.enum(
    JobStatus, description="Where a job is: queued, running, or ended (succeeded, failed, cancelled)."
)
strawberry.enum(
    ScanStatus,
    description="A model's security scan summary: CLEAN (every file scanned, nothing found), UNSAFE (a"
    " scanner found something), ERROR (a scanner failed or a file could not be scanned: never read as"
    " clean).",
)
strawberry.enum(Severity, description="How dangerous a scan finding is.")
strawberry.enum(FileScanStatus, description="What one scanner concluded about one file.")


BigInt = NewType("BigInt", int)


def _serialize_decimal(value: Decimal) -> str:
    return format(value.normalize(), "f")


MAX_DECIMAL_DIGITS = 30
# Exponents outside this range are not prices or specs; they would also overflow PostgreSQL NUMERIC.
MAX_DECIMAL_EXPONENT = 30


def _parse_decimal(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError('a Decimal is written as a string, e.g. "0.15"')
    text = str(value).strip()
    if len(text) > 2 * MAX_DECIMAL_DIGITS:
        raise ValueError(f"a Decimal has at most {MAX_DECIMAL_DIGITS} digits")
    try:
        parsed = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text[:40]!r} is not a decimal number") from None
    if not parsed.is_finite():
        raise ValueError("a Decimal must be a finite number (no NaN or Infinity)")
    digits = parsed.as_tuple()
    exponent = int(digits.exponent)  # finite, so an int
    if (
        len(digits.digits) > MAX_DECIMAL_DIGITS
        or not -MAX_DECIMAL_EXPONENT <= exponent <= MAX_DECIMAL_EXPONENT
    ):
        raise ValueError(f"a Decimal has at most {MAX_DECIMAL_DIGITS} digits")
    return parsed


BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1


def _parse_bigint(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError("a BigInt is an integer")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("a BigInt is an integer")
        value = int(value)
    if isinstance(value, str):
        if not value.strip().lstrip("-").isdigit() or len(value) > 20:
            raise ValueError("a BigInt is an integer")
        value = int(value)
    if not isinstance(value, int) or not BIGINT_MIN <= value <= BIGINT_MAX:
        raise ValueError("a BigInt fits in 64 bits")
    return value


SCALARS: dict[object, ScalarDefinition] = {
    Decimal: strawberry.scalar(
        name="Decimal",
        serialize=_serialize_decimal,
        parse_value=_parse_decimal,
        description='An exact decimal number written as a string in plain notation, e.g. `"0.15"`'
        " (prices, specs); never rounded through floating point.",
    ),
    BigInt: strawberry.scalar(
        name="BigInt",
        serialize=int,
        parse_value=_parse_bigint,
        description="An integer that may exceed 32 bits (parameter counts, byte sizes), as a JSON number.",
    ),
}


@strawberry.enum(description="Sort direction.")
class OrderDirection(Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.interface(
    description="A registry entity: when it was written, where its facts come from, and which of its"
    " fields an operator has edited (re-seeding never overwrites those)."
)
class Tracked:
    created_at: datetime = strawberry.field(description="When the row was created.")
    updated_at: datetime = strawberry.field(description="When the row last changed.")
    origin: Origin = strawberry.field(
        description="Who first wrote the row: a seed, the API, extraction, or an upstream release."
    )
    source: str | None = strawberry.field(description="Where the row's facts come from.")
    source_url: str | None = strawberry.field(description="A URL of the source of the row's facts.")
    edited_fields: list[str] = strawberry.field(
        description="Fields an operator has edited through the API; re-seeding keeps them."
    )


def tracked_fields(row: Any) -> dict[str, Any]:
    return {
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "origin": Origin(row.origin),
        "source": row.source,
        "source_url": row.source_url,
        "edited_fields": list(row.edited_fields),
    }


__all__ = [
    "ApiKeyScope",
    "ChangeOperation",
    "DeviceArchitecture",
    "Endpoint",
    "EngineVersionStatus",
    "FileScanStatus",
    "JobKind",
    "JobStatus",
    "LicenseKind",
    "MatchType",
    "Modality",
    "ModelSource",
    "ModelStatus",
    "Origin",
    "ParserRuleType",
    "ProviderKind",
    "ProviderModelMode",
    "ScanStatus",
    "Severity",
]
