"""Hardware SKUs with their specs, and their prices per provider and region."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, Numeric, Text
from sqlalchemy.orm import Mapped, mapped_column

from budgraph.db.base import Base, IdMixin, ProvenanceMixin, TimestampMixin, enum_check
from budgraph.db.enums import DeviceArchitecture


class Hardware(IdMixin, TimestampMixin, ProvenanceMixin, Base):
    __tablename__ = "hardware"
    __table_args__ = (
        CheckConstraint(enum_check("device_architecture", DeviceArchitecture), name="device_architecture"),
        CheckConstraint("sku ~ '^[a-z0-9][a-z0-9.-]*$'", name="sku_format"),
        CheckConstraint(
            "compute_capability IS NULL OR compute_capability ~ '^[0-9]+\\.[0-9]+$'",
            name="compute_capability_format",
        ),
        CheckConstraint(
            "coalesce(memory_gb, 0) >= 0 AND coalesce(memory_bandwidth_gbps, 0) >= 0"
            " AND coalesce(peak_bf16_tflops, 0) >= 0 AND coalesce(peak_fp8_tflops, 0) >= 0",
            name="specs_not_negative",
        ),
        CheckConstraint("devices_per_package > 0", name="devices_per_package_positive"),
        Index(None, "device_architecture"),
        Index(None, "vendor"),
    )

    sku: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    vendor: Mapped[str] = mapped_column(Text, nullable=False)
    device_architecture: Mapped[str] = mapped_column(Text, nullable=False)
    # Specs are per device as software sees it; a package (card, module) may hold several devices.
    # Memory is the vendor's nominal figure in GB (the H100's "80 GB"; the device reports 79.6 GiB).
    memory_gb: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    memory_bandwidth_gbps: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    peak_bf16_tflops: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    peak_fp8_tflops: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    compute_capability: Mapped[str | None] = mapped_column(Text)
    devices_per_package: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1", default=1)
    tdp_watts: Mapped[int | None] = mapped_column(Integer)
    release_year: Mapped[int | None] = mapped_column(Integer)


class HardwarePrice(IdMixin, TimestampMixin, ProvenanceMixin, Base):
    """What one device of a SKU costs per hour at a provider, in a region, as of a date."""

    __tablename__ = "hardware_price"
    __table_args__ = (
        CheckConstraint("on_demand_per_hour >= 0", name="on_demand_not_negative"),
        CheckConstraint("spot_per_hour IS NULL OR spot_per_hour >= 0", name="spot_not_negative"),
        CheckConstraint("devices_per_instance > 0", name="devices_positive"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_format"),
        Index(None, "hardware_id", "provider_id", "region", "instance_type", "as_of", unique=True),
    )

    hardware_id: Mapped[int] = mapped_column(ForeignKey("hardware.id", ondelete="CASCADE"), nullable=False)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id", ondelete="RESTRICT"), nullable=False)
    instance_type: Mapped[str] = mapped_column(Text, nullable=False)
    devices_per_instance: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    region: Mapped[str] = mapped_column(Text, nullable=False)
    on_demand_per_hour: Mapped[Decimal] = mapped_column(Numeric(14, 6), nullable=False)
    spot_per_hour: Mapped[Decimal | None] = mapped_column(Numeric(14, 6))
    currency: Mapped[str] = mapped_column(Text, nullable=False, default="USD")
    as_of: Mapped[date] = mapped_column(Date, nullable=False)
