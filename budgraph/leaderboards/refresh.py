"""Refreshing leaderboards: each source on its own, as a dated snapshot, on the 7-day rule.

A source is read again only when its last *successful* extraction *started* at least seven days
ago (the predecessor measured from the end of the previous run, so a weekly cron ran every other
week), or when forced. A failing source is recorded with its error and never stops the others.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from budgraph import db
from budgraph.db.enums import SourceRunStatus
from budgraph.kit.clock import now
from budgraph.kit.db import RequestSession
from budgraph.kit.unit_of_work import UnitOfWork
from budgraph.leaderboards.linking import load_matcher, lock_linking
from budgraph.leaderboards.repository import restand, snapshots_of_benchmarks
from budgraph.leaderboards.sources import (
    SOURCES,
    CachedValidators,
    LeaderboardSource,
    SourceError,
    SourceSettings,
    SourceSnapshot,
    fetch_source,
    sample_payloads,
)

REFRESH_INTERVAL = timedelta(days=7)
log = logging.getLogger("budgraph.leaderboards")
Clock = Callable[[], datetime]
Progress = Callable[[int, str], Awaitable[None]]


@dataclass(frozen=True)
class SourceOutcome:
    source: str
    status: str  # succeeded | unchanged | failed | not_due | disabled
    entries: int = 0
    error: str | None = None


def is_due(state: db.LeaderboardSource, moment: datetime, force: bool) -> bool:
    last = state.last_success_started_at
    return force or last is None or moment - last >= REFRESH_INTERVAL


async def _state(session: RequestSession, source: LeaderboardSource) -> db.LeaderboardSource:
    row: db.LeaderboardSource | None = await session.scalar(
        select(db.LeaderboardSource).where(db.LeaderboardSource.key == source.key).with_for_update()
    )
    if row is None:
        row = db.LeaderboardSource(
            key=source.key, name=source.name, homepage_url=source.homepage_url, validators={}
        )
        session.add(row)
        await session.flush()
    return row


async def _benchmarks(session: RequestSession, source: LeaderboardSource) -> dict[str, int]:
    keys = {f"{source.key}:{spec.key}": spec for spec in source.benchmarks}
    existing = {
        row.key: row
        for row in (await session.scalars(select(db.Benchmark).where(db.Benchmark.key.in_(list(keys))))).all()
    }
    turned: list[int] = []  # benchmarks whose direction changed: their standings turn too
    for key, spec in keys.items():
        values = {
            "name": spec.name,
            "category": spec.category,
            "unit": spec.unit,
            "scale": spec.scale,
            "higher_is_better": spec.higher_is_better,
            "source_key": source.key,
            "source": source.name,
            "source_url": source.homepage_url,
        }
        row = existing.get(key)
        if row is None:
            existing[key] = row = db.Benchmark(key=key, origin="extraction", **values)
            session.add(row)
        else:
            if row.higher_is_better != spec.higher_is_better:
                turned.append(row.id)
            for name, value in values.items():
                setattr(row, name, value)
    await session.flush()
    if turned:
        await restand(session, await snapshots_of_benchmarks(session, turned))
    return {key.split(":", 1)[1]: row.id for key, row in existing.items()}


async def _store(
    session: RequestSession,
    source: LeaderboardSource,
    snapshot: SourceSnapshot,
    started: datetime,
    job_id: int | None,
) -> int:
    benchmark_ids = await _benchmarks(session, source)
    state = await _state(session, source)
    await lock_linking(session)  # a model or alias committed meanwhile is seen, never missed
    matcher = await load_matcher(session)
    row = db.LeaderboardSnapshot(
        source_id=state.id,
        job_id=job_id,
        fetched_at=started,
        published_on=snapshot.published_on,
        entry_count=len(snapshot.entries),
    )
    session.add(row)
    await session.flush()
    matches = {name: matcher.match(name) for name in {entry.raw_model_name for entry in snapshot.entries}}
    session.add_all(
        db.LeaderboardEntry(
            benchmark_id=benchmark_ids[entry.benchmark_key],
            snapshot_id=row.id,
            model_id=matches[entry.raw_model_name].model_id,
            match_method=matches[entry.raw_model_name].method,
            raw_model_name=entry.raw_model_name,
            score=entry.score,
            rank=entry.rank,
            source=source.key,
            published_on=snapshot.published_on,
            extra=dict(entry.extra),
        )
        for entry in snapshot.entries
    )
    await restand(session, [row.id])
    return len(snapshot.entries)


def _actor(source: LeaderboardSource) -> str:
    return f"leaderboards:{source.key}"


async def _record(
    sessions: async_sessionmaker[RequestSession], source: LeaderboardSource, clock: Clock, **values: object
) -> None:
    async with UnitOfWork(sessions, actor=_actor(source)) as uow:
        state = await _state(uow.session, source)
        for name, value in {"last_finished_at": clock(), **values}.items():
            setattr(state, name, value)


async def refresh_source(
    sessions: async_sessionmaker[RequestSession],
    source: LeaderboardSource,
    settings: SourceSettings,
    client: httpx.AsyncClient | None,
    *,
    force: bool = False,
    clock: Clock = now,
    job_id: int | None = None,
    named: bool = False,
) -> SourceOutcome:
    """Refresh one source if it is due (and enabled, unless ``named`` explicitly); ``client=None``
    reads its recorded sample (offline)."""
    async with UnitOfWork(sessions, actor=_actor(source)) as uow:
        state = await _state(uow.session, source)
        started = clock()
        if not state.enabled and not named:
            await uow.rollback()
            return SourceOutcome(source.key, "disabled")
        if not is_due(state, started, force):
            await uow.rollback()
            return SourceOutcome(source.key, "not_due")
        state.last_started_at = started
        known = {url: CachedValidators(**v) for url, v in (state.validators or {}).items()}
    try:
        if client is None:
            payloads, validators, changed = sample_payloads(source), known, True
        else:
            fetched = await fetch_source(source, settings, client, known)
            payloads, validators, changed = fetched.payloads, fetched.validators, fetched.changed
        if not changed:
            await _record(
                sessions,
                source,
                clock,
                last_status=SourceRunStatus.UNCHANGED.value,
                last_error=None,
                last_success_started_at=started,
            )
            return SourceOutcome(source.key, "unchanged")
        snapshot = source.parse(payloads, started)
        async with UnitOfWork(sessions, actor=_actor(source)) as uow:
            count = await _store(uow.session, source, snapshot, started, job_id)
            state = await _state(uow.session, source)
            state.last_status, state.last_error = SourceRunStatus.SUCCEEDED.value, None
            state.last_success_started_at, state.last_finished_at = started, clock()
            state.validators = {url: asdict(v) for url, v in validators.items()}
        return SourceOutcome(source.key, "succeeded", entries=count)
    except Exception as error:  # each source fails on its own; the error is kept for operators
        message = _failure_message(source, error)
        await _record(sessions, source, clock, last_status=SourceRunStatus.FAILED.value, last_error=message)
        return SourceOutcome(source.key, "failed", error=message)


def _failure_message(source: LeaderboardSource, error: Exception) -> str:
    """What the source's recorded error says (anyone may read it): a source's own failures in their
    words (which URL, what went wrong), anything else only as an internal error, logged in full once."""
    if isinstance(error, SourceError):
        log.warning("leaderboard source %s failed: %s", source.key, error.message)
        return error.message
    log.exception("leaderboard source %s failed unexpectedly", source.key)
    return f"{source.name}: an internal error stopped the refresh (details in the worker log)"


async def refresh(
    sessions: async_sessionmaker[RequestSession],
    settings: SourceSettings,
    keys: Sequence[str] | None = None,
    *,
    force: bool = False,
    offline: bool = False,
    clock: Clock = now,
    job_id: int | None = None,
    progress: Progress | None = None,
    client: httpx.AsyncClient | None = None,
) -> list[SourceOutcome]:
    """Refresh the named sources (default: all), one after another, each on its own."""
    chosen = [SOURCES[key] for key in (keys or sorted(SOURCES))]
    outcomes: list[SourceOutcome] = []
    own_client = None if offline or client is not None else httpx.AsyncClient(follow_redirects=True)
    try:
        for index, source in enumerate(chosen):
            if progress is not None:
                await progress(100 * index // len(chosen), f"refreshing {source.key}")
            http = None if offline else (client or own_client)
            outcomes.append(
                await refresh_source(
                    sessions,
                    source,
                    settings,
                    http,
                    force=force,
                    clock=clock,
                    job_id=job_id,
                    named=bool(keys),
                )
            )
    finally:
        if own_client is not None:
            await own_client.aclose()
    return outcomes
