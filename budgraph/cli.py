"""The `budgraph` command: serve, worker, migrate, seed, dev, export-schema, export-env-example, apikey,
leaderboards, engines import, plan.

Every command that needs servers finds them through ``kit.servers.servers``: the configured ones, else
the embedded ones of a running ``make dev``, else the embedded ones of the data dir, started for the
command's duration (so a stopped ``make dev``'s registry is still there to migrate, seed, or key).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from budgraph.db.enums import ApiKeyScope, DeviceArchitecture
from budgraph.kit.servers import servers
from budgraph.settings import Settings, get_settings

if TYPE_CHECKING:
    from budgraph.leaderboards.refresh import SourceOutcome
    from budgraph.seeds.service import SeedReport

app = typer.Typer(help="budgraph: the GraphQL registry of the Bud inference stack.", no_args_is_help=True)
migrate_app = typer.Typer(help="Apply or revert database migrations.", no_args_is_help=True)
apikey_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
leaderboards_app = typer.Typer(help="Leaderboard sources.", no_args_is_help=True)
engines_app = typer.Typer(help="Inference engines and their upstream releases.", no_args_is_help=True)
app.add_typer(migrate_app, name="migrate")
app.add_typer(apikey_app, name="apikey")
app.add_typer(leaderboards_app, name="leaderboards")
app.add_typer(engines_app, name="engines")


@contextmanager
def _servers(need_redis: bool = False) -> Iterator[Settings]:
    """The settings of this command, pointing at real servers (said on stderr when embedded)."""
    from budgraph.kit.embedded import EmbeddedServiceError

    try:
        with servers(get_settings(), need_redis=need_redis) as used:
            if used.embedded:
                typer.echo(f"budgraph: {used.describe()}", err=True)
            yield used.settings
    except EmbeddedServiceError as error:
        typer.echo(f"budgraph: the embedded servers could not be used: {error}", err=True)
        raise typer.Exit(2) from None


def _database_url(settings: Settings) -> str:
    assert settings.database_url is not None  # _servers always sets one
    return settings.database_url


@migrate_app.command("upgrade")
def migrate_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Upgrade the database to a revision (default: the newest)."""
    from budgraph.kit.migrate import upgrade

    with _servers() as settings:
        upgrade(_database_url(settings), revision)


@migrate_app.command("downgrade")
def migrate_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, e.g. -1 or base.")],
) -> None:
    """Revert the database to a revision."""
    from budgraph.kit.migrate import downgrade

    with _servers() as settings:
        downgrade(_database_url(settings), revision)


@dataclass(frozen=True)
class Seeded:
    report: SeedReport
    registry_version: int | None

    def summary(self) -> str:
        created, updated = sum(self.report.created.values()), sum(self.report.updated.values())
        return f"{created} rows created, {updated} updated"

    def lines(self) -> list[str]:
        version = self.registry_version if self.registry_version is not None else "unchanged"
        return [*self.report.lines(), f"registry version: {version}"]


async def seed_now(settings: Settings) -> Seeded:
    from budgraph.kit.db import create_engine, session_factory
    from budgraph.kit.unit_of_work import UnitOfWork
    from budgraph.registry.repository import current_version
    from budgraph.seeds.service import seed

    engine = create_engine(settings)
    try:
        async with UnitOfWork(session_factory(engine), actor="seed") as uow:
            report = await seed(uow.session)
        version = uow.version
        if version is None:
            async with UnitOfWork(session_factory(engine), actor="seed") as uow:
                version = await current_version(uow.session)
    finally:
        await engine.dispose()
    return Seeded(report, version)


async def registry_version_now(settings: Settings) -> int:
    from budgraph.kit.db import create_engine, session_factory
    from budgraph.kit.unit_of_work import UnitOfWork
    from budgraph.registry.repository import current_version

    engine = create_engine(settings)
    try:
        async with UnitOfWork(session_factory(engine), actor="cli") as uow:
            return await current_version(uow.session)
    finally:
        await engine.dispose()


@app.command()
def seed() -> None:
    """Load the seed files (idempotent; operator edits are kept)."""
    with _servers() as settings:
        for line in asyncio.run(seed_now(settings)).lines():
            typer.echo(line)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
) -> None:
    """Serve the GraphQL API (and the playground at /graphql)."""
    from budgraph.server import serve_api

    with _servers(need_redis=True) as settings:
        serve_api(settings, host, port)


@app.command()
def worker(burst: Annotated[bool, typer.Option(help="Run queued jobs, then exit.")] = False) -> None:
    """Run an arq worker (it reconnects by itself when Redis comes back after an outage)."""
    with _servers(need_redis=True) as settings:
        from workers.main import create_worker

        create_worker(settings, burst=burst).run()


@app.command()
def dev(
    verbose: Annotated[bool, typer.Option(help="Show every library's log lines.")] = False,
) -> None:
    """Start everything: embedded PostgreSQL and Redis unless configured, migrate, seed, API and worker."""
    from budgraph.dev import run_dev

    raise typer.Exit(run_dev(get_settings(), verbose))


@app.command("export-schema")
def export_schema(
    check: Annotated[
        bool, typer.Option(help="Only check that schema.graphql is current (exit 1 if not).")
    ] = False,
) -> None:
    """Write schema.graphql from the code."""
    from budgraph.graphql.schema_file import SCHEMA_FILE, render_schema, write_schema

    if check:
        if not SCHEMA_FILE.exists() or SCHEMA_FILE.read_text(encoding="utf-8") != render_schema():
            typer.echo(f"{SCHEMA_FILE} is stale: run `make schema`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{SCHEMA_FILE} is current")
        return
    changed = write_schema()
    typer.echo(f"{SCHEMA_FILE} {'updated' if changed else 'unchanged'}")


@app.command("export-env-example")
def export_env_example(
    check: Annotated[
        bool, typer.Option(help="Only check that .env.example is current (exit 1 if not).")
    ] = False,
) -> None:
    """Write .env.example from the settings (every setting, its default and description)."""
    from budgraph.settings_file import ENV_EXAMPLE, render_env_example, write_env_example

    if check:
        if not ENV_EXAMPLE.exists() or ENV_EXAMPLE.read_text(encoding="utf-8") != render_env_example():
            typer.echo(f"{ENV_EXAMPLE} is stale: run `make env-example`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{ENV_EXAMPLE} is current")
        return
    changed = write_env_example()
    typer.echo(f"{ENV_EXAMPLE} {'updated' if changed else 'unchanged'}")


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Argument(help="A unique name for the key (shown in the change log).")],
    scope: Annotated[ApiKeyScope, typer.Option(help="read, write or admin.")] = ApiKeyScope.WRITE,
    expires_in: Annotated[
        str | None, typer.Option(help="Lifetime, e.g. 90d, 12h, 2w, 30m (default: never expires).")
    ] = None,
    rate_limit: Annotated[
        int | None,
        typer.Option(help="The key's own query-cost budget per window (default: the key default)."),
    ] = None,
) -> None:
    """Create an API key and print it once (only its hash is stored)."""
    from budgraph.auth import commands
    from budgraph.auth.expiry import parse_lifetime
    from budgraph.kit import clock
    from budgraph.kit.errors import BudgraphError

    try:
        expires_at = clock.now() + parse_lifetime(expires_in, "--expires-in") if expires_in else None
    except BudgraphError as error:
        typer.echo(error.message, err=True)
        raise typer.Exit(1) from None
    with _servers() as settings:
        try:
            key = asyncio.run(commands.create(settings, name, scope, expires_at, rate_limit))
        except BudgraphError as error:
            typer.echo(error.message, err=True)
            raise typer.Exit(1) from None
    typer.echo(key)
    if expires_at is not None:
        typer.echo(f"expires at {expires_at.isoformat(timespec='seconds')}", err=True)


@apikey_app.command("revoke")
def apikey_revoke(name: Annotated[str, typer.Argument(help="The key's name.")]) -> None:
    """Revoke an API key."""
    from budgraph.auth import commands

    with _servers() as settings:
        revoked = asyncio.run(commands.revoke(settings, name))
    if not revoked:
        typer.echo(f"no active API key named {name!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {name}")


@apikey_app.command("set-rate-limit")
def apikey_set_rate_limit(
    name: Annotated[str, typer.Argument(help="The key's name.")],
    limit: Annotated[str, typer.Argument(help="Query-cost budget per window, or `default`.")],
) -> None:
    """Give an API key a rate-limit budget of its own, or `default` to use the key default again."""
    from budgraph.auth import commands
    from budgraph.kit.errors import BudgraphError

    if limit != "default" and not limit.isdigit():
        typer.echo(f"the limit is a whole number or `default` (got {limit!r})", err=True)
        raise typer.Exit(2)
    budget = None if limit == "default" else int(limit)
    with _servers() as settings:
        try:
            asyncio.run(commands.set_rate_limit(settings, name, budget))
        except BudgraphError as error:
            typer.echo(error.message, err=True)
            raise typer.Exit(1) from None
    shown = budget if budget is not None else f"the default ({settings.rate_limit_key_budget})"
    typer.echo(f"{name}: {shown} per {settings.rate_limit_window_seconds} s")


@apikey_app.command("list")
def apikey_list() -> None:
    """List API keys: name, scope, status, expiry, last use and budget (never a secret)."""
    from budgraph.auth import commands

    with _servers() as settings:
        lines = asyncio.run(commands.listing(settings))
    for line in lines:
        typer.echo(line)


async def refresh_leaderboards_now(
    settings: Settings, sources: list[str] | None, force: bool
) -> list[SourceOutcome]:
    from budgraph.kit.db import create_engine, session_factory
    from budgraph.leaderboards.refresh import refresh

    engine = create_engine(settings)
    try:
        return await refresh(
            session_factory(engine), settings, sources, force=force, offline=settings.leaderboards_offline
        )
    finally:
        await engine.dispose()


@leaderboards_app.command("refresh")
def leaderboards_refresh(
    sources: Annotated[list[str] | None, typer.Argument(help="Source keys (default: all).")] = None,
    force: Annotated[bool, typer.Option(help="Ignore the 7-day rule.")] = False,
    offline: Annotated[
        bool | None, typer.Option(help="Read the recorded samples (default: BUDGRAPH_LEADERBOARDS_OFFLINE).")
    ] = None,
) -> None:
    """Refresh leaderboards now, in this process (the weekly job does the same in a worker)."""
    from budgraph.leaderboards.sources import SOURCES

    unknown = sorted(set(sources or []) - set(SOURCES))
    if unknown:
        typer.echo(f"unknown sources: {', '.join(unknown)} (known: {', '.join(sorted(SOURCES))})", err=True)
        raise typer.Exit(2)
    with _servers() as settings:
        if offline is not None:
            settings = settings.model_copy(update={"leaderboards_offline": offline})
        for o in asyncio.run(refresh_leaderboards_now(settings, sources, force)):
            entries = f" ({o.entries} entries)" if o.entries else ""
            typer.echo(f"{o.source}: {o.status}{entries}" + (f": {o.error}" if o.error else ""))


@engines_app.command("import")
def engines_import(
    engine: Annotated[str, typer.Argument(help="The engine's slug: vllm, sglang or llamacpp.")],
    version: Annotated[str, typer.Option("--version", help="The upstream release, e.g. 0.8.0.")],
    path: Annotated[
        Path, typer.Option("--from", help="The release artifact: a wheel, an sdist or a source tree.")
    ],
    apply_to: Annotated[
        str | None,
        typer.Option(help="An engine version whose builds package this release: derive their compatibility."),
    ] = None,
    device: Annotated[
        list[DeviceArchitecture] | None,
        typer.Option(help="Only the builds for these devices (with --apply-to; default: all)."),
    ] = None,
) -> None:
    """Record an upstream release from its artifact (parsed, never imported or run), in one transaction."""
    from budgraph.kit.errors import BudgraphError
    from budgraph.releases import commands

    devices = [d.value for d in device] if device else None
    with _servers() as settings:
        try:
            summary = asyncio.run(commands.import_now(settings, engine, version, path, apply_to, devices))
        except (BudgraphError, commands.ImportFailed) as error:
            typer.echo(f"budgraph engines import: {getattr(error, 'message', error)}", err=True)
            raise typer.Exit(1) from None
    for line in summary.lines():
        typer.echo(line)


@app.command()
def plan(
    model: Annotated[str, typer.Argument(help="A registered model, e.g. meta-llama/Llama-3.1-8B-Instruct.")],
    hardware: Annotated[str, typer.Option(help="A hardware SKU, e.g. nvidia-h100-sxm5-80gb.")],
    devices: Annotated[int, typer.Option(help="At most this many devices.")] = 8,
    context_length: Annotated[
        int | None, typer.Option(help="Tokens of context per sequence (default: the model's).")
    ] = None,
    concurrency: Annotated[int, typer.Option(help="Sequences served at once.")] = 1,
    engine: Annotated[str | None, typer.Option(help="Only this engine (slug).")] = None,
    quantization: Annotated[str | None, typer.Option(help="Only this quantization method.")] = None,
    kv_cache_dtype: Annotated[
        str | None, typer.Option(help="float16, bfloat16 or fp8 (default: the weights' dtype).")
    ] = None,
) -> None:
    """Print the deployment plans of a model on a hardware SKU (the `deploymentPlans` field, as a table)."""
    from budgraph.kit.errors import BudgraphError
    from budgraph.plans import commands

    if kv_cache_dtype not in (None, "float16", "bfloat16", "fp8"):
        typer.echo("budgraph plan: --kv-cache-dtype must be float16, bfloat16 or fp8", err=True)
        raise typer.Exit(2)
    asked = commands.PlanAsked(
        model, hardware, devices, context_length, concurrency, engine, quantization, kv_cache_dtype
    )
    with _servers() as settings:
        try:
            plans, uri = asyncio.run(commands.plans_now(settings, asked))
        except BudgraphError as error:
            typer.echo(f"budgraph plan: {error.message}", err=True)
            raise typer.Exit(1) from None
    for line in commands.table(plans, uri, hardware):
        typer.echo(line)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # one line per plugin
    app()
