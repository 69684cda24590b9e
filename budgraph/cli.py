"""The `budgraph` command: serve, worker, migrate, seed, dev, export-schema, apikey."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

import typer

from budgraph.db.enums import ApiKeyScope
from budgraph.settings import Settings, get_settings

app = typer.Typer(help="budgraph: the GraphQL registry of the Bud inference stack.", no_args_is_help=True)
migrate_app = typer.Typer(help="Apply or revert database migrations.", no_args_is_help=True)
apikey_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
leaderboards_app = typer.Typer(help="Leaderboard sources.", no_args_is_help=True)
app.add_typer(migrate_app, name="migrate")
app.add_typer(apikey_app, name="apikey")
app.add_typer(leaderboards_app, name="leaderboards")


def _configured(settings: Settings) -> str:
    if not settings.database_url:
        typer.echo("BUDGRAPH_DATABASE_URL is not set (use `budgraph dev` for embedded servers)", err=True)
        raise typer.Exit(2)
    return settings.database_url


@migrate_app.command("upgrade")
def migrate_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Upgrade the database to a revision (default: the newest)."""
    from budgraph.kit.migrate import upgrade

    upgrade(_configured(get_settings()), revision)


@migrate_app.command("downgrade")
def migrate_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, e.g. -1 or base.")],
) -> None:
    """Revert the database to a revision."""
    from budgraph.kit.migrate import downgrade

    downgrade(_configured(get_settings()), revision)


async def _seed(settings: Settings) -> list[str]:
    from budgraph.kit.db import create_engine, session_factory
    from budgraph.kit.unit_of_work import UnitOfWork
    from budgraph.seeds.service import seed

    engine = create_engine(settings)
    try:
        async with UnitOfWork(session_factory(engine), actor="seed") as uow:
            report = await seed(uow.session)
    finally:
        await engine.dispose()
    version = uow.version
    return [*report.lines(), f"registry version: {version if version is not None else 'unchanged'}"]


@app.command()
def seed() -> None:
    """Load the seed files (idempotent; operator edits are kept)."""
    settings = get_settings()
    _configured(settings)
    for line in asyncio.run(_seed(settings)):
        typer.echo(line)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
) -> None:
    """Serve the GraphQL API (and the playground at /graphql)."""
    import uvicorn

    from budgraph.app import create_app
    from budgraph.server import uvicorn_config

    settings = get_settings()
    _configured(settings)
    if not settings.redis_url:
        typer.echo("BUDGRAPH_REDIS_URL is not set (use `budgraph dev` for embedded servers)", err=True)
        raise typer.Exit(2)
    uvicorn.Server(uvicorn_config(create_app(settings), settings, host, port)).run()


@app.command()
def worker(burst: Annotated[bool, typer.Option(help="Run queued jobs, then exit.")] = False) -> None:
    """Run an arq worker."""
    from arq.worker import run_worker

    from workers.main import WorkerSettings, redis_settings

    run_worker(WorkerSettings, redis_settings=redis_settings(), burst=burst)  # type: ignore[arg-type]


@app.command()
def dev() -> None:
    """Start everything: embedded PostgreSQL and Redis unless configured, migrate, seed, API and worker."""
    from budgraph.dev import run_dev

    run_dev(get_settings())


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

    settings = get_settings()
    _configured(settings)
    try:
        expires_at = clock.now() + parse_lifetime(expires_in, "--expires-in") if expires_in else None
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

    settings = get_settings()
    _configured(settings)
    if not asyncio.run(commands.revoke(settings, name)):
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

    settings = get_settings()
    _configured(settings)
    if limit != "default" and not limit.isdigit():
        typer.echo(f"the limit is a whole number or `default` (got {limit!r})", err=True)
        raise typer.Exit(2)
    budget = None if limit == "default" else int(limit)
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

    settings = get_settings()
    _configured(settings)
    for line in asyncio.run(commands.listing(settings)):
        typer.echo(line)


async def _refresh_leaderboards(settings: Settings, sources: list[str] | None, force: bool) -> list[str]:
    from budgraph.kit.db import create_engine, session_factory
    from budgraph.leaderboards.refresh import refresh

    engine = create_engine(settings)
    try:
        outcomes = await refresh(
            session_factory(engine), settings, sources, force=force, offline=settings.leaderboards_offline
        )
    finally:
        await engine.dispose()
    return [
        f"{o.source}: {o.status}"
        + (f" ({o.entries} entries)" if o.entries else "")
        + (f": {o.error}" if o.error else "")
        for o in outcomes
    ]


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

    settings = get_settings()
    _configured(settings)
    unknown = sorted(set(sources or []) - set(SOURCES))
    if unknown:
        typer.echo(f"unknown sources: {', '.join(unknown)} (known: {', '.join(sorted(SOURCES))})", err=True)
        raise typer.Exit(2)
    if offline is not None:
        settings = settings.model_copy(update={"leaderboards_offline": offline})
    for line in asyncio.run(_refresh_leaderboards(settings, sources, force)):
        typer.echo(line)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app()
