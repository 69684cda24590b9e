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
    db_pool_timeout_seconds: float = Field(
        default=3.0, gt=0, description="How long a request waits for a free database connection before 503."
    )
    db_connect_timeout_seconds: float = Field(
        default=5.0, gt=0, description="How long opening a database connection may take."
    )
    db_statement_timeout_ms: int = Field(
        default=10_000, ge=100, description="PostgreSQL statement_timeout of the API's sessions."
    )
    # Limits of one GraphQL operation, checked before it runs (see budgraph/graphql/limits.py).
    max_document_bytes: int = Field(default=32 * 1024, ge=1024, description="Longest GraphQL document.")
    max_query_tokens: int = Field(default=4_000, ge=100, description="Most lexical tokens in a document.")
    max_query_depth: int = Field(
        default=16, ge=2, description="Deepest nesting of fields (introspection aside)."
    )
    max_query_aliases: int = Field(default=30, ge=0, description="Most aliased fields in a document.")
    max_query_fields: int = Field(default=400, ge=10, description="Most field selections in a document.")
    max_query_cost: int = Field(
        default=25_000,
        ge=100,
        description="Highest query cost: the number of objects an answer could hold (connection sizes"
        " multiply; an absent `first` counts as the default page size).",
    )
    max_response_bytes: int = Field(default=8 * 1024**2, ge=1024, description="Largest answer, encoded.")
    request_timeout_seconds: float = Field(
        default=15.0, gt=0, description="Execution deadline of one operation; the work stops when it passes."
    )
    # Request bodies.
    max_json_body_bytes: int = Field(
        default=256 * 1024, ge=1024, description="Largest JSON request body (document and variables)."
    )
    body_read_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Deadline for receiving a JSON request body."
    )
    upload_idle_timeout_seconds: float = Field(
        default=30.0, gt=0, description="An upload that sends nothing for this long is dropped."
    )
    ws_max_message_bytes: int = Field(
        default=64 * 1024, ge=1024, description="Largest WebSocket message (graphql-transport-ws)."
    )
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
    dapr_app_api_token: str | None = Field(
        default=None,
        validation_alias=AliasChoices("BUDGRAPH_DAPR_APP_API_TOKEN", "APP_API_TOKEN"),
        description="The Dapr sidecar's APP_API_TOKEN: it arrives as the `dapr-api-token` header, and the"
        " cron route accepts only it (or a write key).",
    )
    leaderboard_scheduler: Literal["dapr", "arq"] = Field(
        default="arq", description="Who fires the weekly refresh: the Dapr cron binding, or an arq cron."
    )
    # Uploads and jobs.
    upload_max_bytes: int = Field(
        default=2 * 1024**3, ge=1, description="Largest uploaded archive, in bytes."
    )
    archive_max_unpacked_bytes: int = Field(
        default=256 * 1024**3, ge=1, description="Most bytes an uploaded archive may unpack to, in all."
    )
    archive_max_file_bytes: int = Field(
        default=50 * 1024**3, ge=1, description="Largest file an uploaded archive may unpack to."
    )
    archive_max_files: int = Field(default=10_000, ge=1, description="Most entries in an uploaded archive.")
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
        default=20_000,
        ge=1,
        le=2**31 - 1,
        description="Query cost one client address may spend per window without an API key.",
    )
    rate_limit_key_budget: int = Field(
        default=200_000,
        ge=1,
        le=2**31 - 1,
        description="Query cost one API key may spend per window, unless an admin gave the key a budget"
        " of its own.",
    )
    rate_limit_request_cost: int = Field(
        default=10,
        ge=0,
        le=1_000_000,
        description="What every operation costs at least: a query of scalars returns no objects, but a"
        " flood of them is still load.",
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
