"""Refreshing leaderboards: the 7-day rule on a clock we control, history, one source failing while
the others succeed, conditional requests, matching; the sites are a local server with their formats."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from budgraph import db
from budgraph.kit.db import RequestSession
from budgraph.leaderboards.refresh import refresh
from budgraph.leaderboards.sources import SOURCES, StaticSourceSettings, sample_payloads

SETTINGS = StaticSourceSettings(hf_token=None, artificial_analysis_api_key="test-key")
T0 = datetime(2026, 11, 16, 3, 0, tzinfo=UTC)


class Sites:
    """What the leaderboard sites publish, by original URL; some can be told to fail."""

    def __init__(self) -> None:
        self.bodies: dict[str, bytes] = {}
        self.failing: set[str] = set()
        self.requests: list[tuple[str, str | None]] = []
        for source in SOURCES.values():
            for request, body in zip(source.requests(SETTINGS), sample_payloads(source), strict=True):
                self.bodies[request.url] = body


@pytest.fixture
def sites() -> Iterator[tuple[Sites, int]]:
    state = Sites()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = f"https://{self.headers['X-Original-Host']}{self.path}"
            state.requests.append((url, self.headers.get("If-None-Match")))
            body = state.bodies.get(url)
            if body is None or any(url.startswith(prefix) for prefix in state.failing):
                self.send_response(503 if body is not None else 404)
                self.end_headers()
                return
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


class ToLocalSites(httpx.AsyncHTTPTransport):
    """Sends every request to the local stand-in of the sites, keeping the original host in a header
    (what a DNS override would do); nothing else about the request changes."""

    def __init__(self, port: int) -> None:
        super().__init__()
        self.port = port

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.headers["X-Original-Host"] = request.url.host
        request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=self.port)
        return await super().handle_async_request(request)


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


async def _snapshots(session: RequestSession, source: str) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(db.LeaderboardSnapshot)
            .join(db.LeaderboardSource)
            .where(db.LeaderboardSource.key == source)
        )
        or 0
    )


async def test_seven_days_count_from_the_start_of_the_last_success(
    sessions: async_sessionmaker[RequestSession], session: RequestSession
) -> None:
    clock = Clock(T0)
    first = await refresh(sessions, SETTINGS, ["bfcl"], offline=True, clock=clock)
    assert [(o.source, o.status) for o in first] == [("bfcl", "succeeded")]
    state = await session.scalar(select(db.LeaderboardSource).where(db.LeaderboardSource.key == "bfcl"))
    assert state is not None
    assert state.last_success_started_at == T0

    # the predecessor's bug: a refresh that ended an hour after it started, measured from the end,
    # is not due a week after the start; measured from the start, it is.
    clock.moment = T0 + timedelta(days=7) - timedelta(minutes=1)
    assert [o.status for o in await refresh(sessions, SETTINGS, ["bfcl"], offline=True, clock=clock)] == [
        "not_due"
    ]
    clock.moment = T0 + timedelta(days=7)
    assert [o.status for o in await refresh(sessions, SETTINGS, ["bfcl"], offline=True, clock=clock)] == [
        "succeeded"
    ]
    # forced refreshes ignore the rule; every refresh adds a dated snapshot (history is kept)
    assert [
        o.status for o in await refresh(sessions, SETTINGS, ["bfcl"], offline=True, clock=clock, force=True)
    ] == ["succeeded"]
    assert await _snapshots(session, "bfcl") == 3


async def test_a_failing_source_does_not_stop_the_others(
    sessions: async_sessionmaker[RequestSession], session: RequestSession, sites: tuple[Sites, int]
) -> None:
    state, port = sites
    state.failing.add("https://gorilla.cs.berkeley.edu/")
    async with httpx.AsyncClient(transport=ToLocalSites(port)) as client:
        outcomes = await refresh(sessions, SETTINGS, client=client, clock=Clock(T0))
    by_source = {o.source: o for o in outcomes}
    assert by_source["bfcl"].status == "failed"
    assert "503" in (by_source["bfcl"].error or "")
    assert {key for key, o in by_source.items() if o.status == "succeeded"} == set(SOURCES) - {"bfcl"}
    bfcl = await session.scalar(select(db.LeaderboardSource).where(db.LeaderboardSource.key == "bfcl"))
    assert bfcl is not None
    assert (bfcl.last_status, bfcl.last_success_started_at) == ("failed", None)
    # which URL, what went wrong: no exception class names
    assert bfcl.last_error == by_source["bfcl"].error
    assert (bfcl.last_error or "").startswith("https://gorilla.cs.berkeley.edu/")
    assert (bfcl.last_error or "").endswith(": HTTP 503 (after 3 tries)")

    # a week later the sites have not changed: conditional requests, no new snapshot
    state.failing.clear()
    state.requests.clear()
    async with httpx.AsyncClient(transport=ToLocalSites(port)) as client:
        later = await refresh(
            sessions, SETTINGS, ["alpaca_eval", "bfcl"], client=client, clock=Clock(T0 + timedelta(days=7))
        )
    assert [(o.source, o.status) for o in later] == [("alpaca_eval", "unchanged"), ("bfcl", "succeeded")]
    alpaca_requests = [r for r in state.requests if "alpaca_eval" in r[0]]
    assert alpaca_requests
    assert all(etag is not None for _, etag in alpaca_requests)
    assert await _snapshots(session, "alpaca_eval") == 1


async def test_an_unexpected_failure_is_recorded_in_words_and_logged_once(
    sessions: async_sessionmaker[RequestSession],
    session: RequestSession,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken_parse(*_: object) -> None:
        raise KeyError("/srv/budgraph/.venv/lib/python3.11/site-packages/something")

    monkeypatch.setattr(SOURCES["bfcl"], "parse", broken_parse)
    with caplog.at_level(logging.WARNING, logger="budgraph.leaderboards"):
        [outcome] = await refresh(sessions, SETTINGS, ["bfcl"], offline=True, clock=Clock(T0))

    message = "Berkeley Function Calling Leaderboard: an internal error stopped the refresh (details in the worker log)"
    assert (outcome.status, outcome.error) == ("failed", message)
    bfcl = await session.scalar(select(db.LeaderboardSource).where(db.LeaderboardSource.key == "bfcl"))
    assert bfcl is not None
    assert (bfcl.last_status, bfcl.last_error) == ("failed", message)
    records = [r for r in caplog.records if r.name == "budgraph.leaderboards"]
    assert [(r.levelname, r.getMessage()) for r in records] == [
        ("ERROR", "leaderboard source bfcl failed unexpectedly")
    ]
    assert records[0].exc_info is not None


async def test_entries_are_matched_to_registry_models(
    sessions: async_sessionmaker[RequestSession], session: RequestSession
) -> None:
    session.add(db.Model(uri="meta-llama/Llama-3.1-8B-Instruct", source_kind="huggingface"))
    await session.commit()
    await refresh(sessions, SETTINGS, offline=True, clock=Clock(T0))
    matched = (
        await session.execute(
            select(db.LeaderboardEntry.raw_model_name, db.LeaderboardEntry.match_method)
            .where(db.LeaderboardEntry.model_id.is_not(None))
            .distinct()
        )
    ).all()
    assert matched
    assert all("llama-3.1-8b" in name.lower() for name, _ in matched)
    total = await session.scalar(select(func.count()).select_from(db.LeaderboardEntry))
    assert total is not None
    assert total > len(matched)


async def test_disabled_sources_are_skipped_unless_named(
    sessions: async_sessionmaker[RequestSession], session: RequestSession
) -> None:
    session.add(db.LeaderboardSource(key="mteb", name="MTEB", enabled=False, validators={}))
    await session.commit()
    outcomes = {o.source: o.status for o in await refresh(sessions, SETTINGS, offline=True, clock=Clock(T0))}
    assert outcomes["mteb"] == "disabled"
    assert set(outcomes.values()) == {"succeeded", "disabled"}
    named = await refresh(sessions, SETTINGS, ["mteb"], offline=True, clock=Clock(T0))
    assert [(o.source, o.status) for o in named] == [("mteb", "succeeded")]
