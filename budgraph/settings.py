"""Settings read from the environment (prefix ``BUDGRAPH_``) or a ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BUDGRAPH_", env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL (postgresql+asyncpg://...). Unset: an embedded PostgreSQL is"
        " started.",
    )
    redis_url: str | None = Field(
        default=None, description="redis://host:port/db. Unset: an embedded Redis is started."
    )
    data_dir: Path = Field(default=Path(".budgraph"), description="Where embedded servers keep their data.")
    host: str = "127.0.0.1"
    port: int = 8000
    require_api_key_for_reads: bool = False
    max_page_size: int = Field(default=100, ge=1, le=1000)
    default_page_size: int = Field(default=20, ge=1, le=1000)
    playground: bool = True
    db_pool_size: int = Field(default=10, ge=1)
    # Object store: MinIO / S3 when an endpoint is set, else a folder (the embedded default).
    minio_endpoint: str | None = None
    minio_access_key: str | None = None
    minio_secret_key: str | None = None
    minio_bucket: str = "budgraph-models"
    minio_secure: bool = True
    objects_dir: Path | None = Field(
        default=None, description="Local object store; default <data_dir>/objects."
    )
    # Extraction sources.
    # The Hub's own variables are honoured too (BUDGRAPH_ ones win).
    hf_endpoint: str = Field(
        default="https://huggingface.co", validation_alias=AliasChoices("BUDGRAPH_HF_ENDPOINT", "HF_ENDPOINT")
    )
    hf_token: str | None = Field(default=None, validation_alias=AliasChoices("BUDGRAPH_HF_TOKEN", "HF_TOKEN"))
    allow_private_urls: bool = False
    # Scanning.
    clamd_address: str = "unix:///var/run/clamav/clamd.ctl"
    # Leaderboards.
    artificial_analysis_api_key: str | None = None
    leaderboards_offline: bool = Field(
        default=False, description="Read each source's recorded sample instead of the network (dev, air gap)."
    )
    leaderboard_scheduler: Literal["dapr", "arq"] = Field(
        default="arq", description="Who fires the weekly refresh: the Dapr cron binding, or an arq cron."
    )
    # Uploads and jobs.
    upload_max_bytes: int = Field(default=2 * 1024**3, ge=1)
    queue_name: str = Field(default="budgraph:queue", description="The arq queue's Redis key.")
    job_max_attempts: int = Field(default=5, ge=1)
    job_timeout_seconds: int = Field(default=3600, ge=10)
    job_retry_base_seconds: float = Field(default=5.0, gt=0)
    sql_echo: bool = False
    # Rate limits: cost budgets per window, counted in Redis so every API process shares them.
    rate_limit_window_seconds: int = Field(
        default=60, ge=1, le=86_400, description="Length of a rate-limit window, in seconds."
    )
    rate_limit_anonymous_budget: int = Field(
        default=5_000,
        ge=1,
        le=2**31 - 1,
        description="Query cost one client address may spend per window without an API key.",
    )
    rate_limit_key_budget: int = Field(
        default=50_000,
        ge=1,
        le=2**31 - 1,
        description="Query cost one API key may spend per window, unless an admin gave the key a budget"
        " of its own.",
    )
    rate_limit_when_redis_down: Literal["open", "closed"] = Field(
        default="open",
        description="When Redis cannot be reached: `open` lets requests through unlimited, `closed` refuses"
        " them with 503 (logged once per outage either way).",
    )
    rate_limit_redis_timeout_seconds: float = Field(
        default=0.25, gt=0, le=10, description="How long one rate-limit check may wait for Redis."
    )
    auth_failure_limit: int = Field(
        default=20,
        ge=1,
        description="Failed authentications one address may make per auth-failure window; further"
        " attempts are refused before any key lookup until the window ends.",
    )
    auth_failure_window_seconds: int = Field(
        default=300, ge=1, le=86_400, description="Length of the auth-failure window, in seconds."
    )

    def object_root(self) -> Path:
        return self.objects_dir or self.data_dir / "objects"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
