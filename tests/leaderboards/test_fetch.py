"""``fetch`` and ``fetch_source`` against a real local HTTP server (tests/leaderboards/server.py)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime

import httpx
import pytest

from budgraph.leaderboards.sources import (
    SOURCES,
    CachedValidators,
    LeaderboardSource,
    RetryPolicy,
    SourceFetchError,
    SourceRequest,
    SourceSettings,
    SourceSnapshot,
    StaticSourceSettings,
    fetch,
    fetch_source,
    hf_datasets,
    sample_payloads,
    sample_snapshot,
)
from budgraph.leaderboards.sources.alpaca_eval import AlpacaEval
from budgraph.leaderboards.sources.fetch import USER_AGENT
from tests.leaderboards.server import LAST_MODIFIED, PAGED_ROWS, LocalServer, serving

FAST = RetryPolicy(attempts=3, backoff_seconds=0.5, max_delay_seconds=30.0)
SETTINGS = StaticSourceSettings()


@pytest.fixture(scope="module")
def local() -> Iterator[LocalServer]:
    with serving() as server:
        yield server


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as http:
        yield http


class Sleeps:
    """Records backoff delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def sample_request(local: LocalServer, name: str) -> SourceRequest:
    return SourceRequest(f"{local.url}/sample/{name}", {"Accept": "text/csv"})


async def test_fresh_fetch_returns_the_body_and_its_validators(
    local: LocalServer, client: httpx.AsyncClient
) -> None:
    result = await fetch(sample_request(local, "alpaca_eval.csv"), client)

    assert result.status == "fresh"
    assert result.body == sample_payloads(SOURCES["alpaca_eval"])[0]
    assert result.etag is not None
    assert result.etag.startswith('"')
    assert result.last_modified == LAST_MODIFIED
    sent = local.seen_headers["/sample/alpaca_eval.csv"]
    assert sent["user-agent"] == USER_AGENT
    assert sent["accept"] == "text/csv"
    assert "if-none-match" not in sent


async def test_a_known_etag_gets_304_not_modified(local: LocalServer, client: httpx.AsyncClient) -> None:
    request = sample_request(local, "bfcl.csv")
    first = await fetch(request, client)
    before = local.hits["/sample/bfcl.csv"]

    again = await fetch(request, client, first.validators)

    assert (again.status, again.body) == ("not_modified", None)
    assert (again.etag, again.last_modified) == (first.etag, first.last_modified)
    assert local.hits["/sample/bfcl.csv"] == before + 1
    assert local.seen_headers["/sample/bfcl.csv"]["if-none-match"] == first.etag


async def test_a_known_last_modified_gets_304(local: LocalServer, client: httpx.AsyncClient) -> None:
    result = await fetch(
        sample_request(local, "mteb.jsonl"), client, CachedValidators(last_modified=LAST_MODIFIED)
    )

    assert result.status == "not_modified"
    assert local.seen_headers["/sample/mteb.jsonl"]["if-modified-since"] == LAST_MODIFIED


async def test_a_stale_etag_gets_the_new_body(local: LocalServer, client: httpx.AsyncClient) -> None:
    result = await fetch(sample_request(local, "lmarena.json"), client, CachedValidators(etag='"old"'))

    assert result.status == "fresh"
    assert result.body == sample_payloads(SOURCES["lmarena"])[0]


async def test_503_twice_then_success_is_retried_with_backoff(
    local: LocalServer, client: httpx.AsyncClient
) -> None:
    sleeps = Sleeps()

    result = await fetch(SourceRequest(f"{local.url}/flaky/twice?fail=2"), client, retry=FAST, sleep=sleeps)

    assert (result.status, result.body) == ("fresh", b"finally")
    assert local.hits["/flaky/twice"] == 3
    assert sleeps.delays == [0.5, 1.0]


async def test_always_500_raises_a_transient_error_after_the_last_try(
    local: LocalServer, client: httpx.AsyncClient
) -> None:
    before = local.hits["/broken"]

    with pytest.raises(SourceFetchError) as raised:
        await fetch(SourceRequest(f"{local.url}/broken"), client, retry=FAST, sleep=Sleeps())

    assert raised.value.transient is True
    assert raised.value.status == 500
    assert "after 3 tries" in raised.value.message
    assert local.hits["/broken"] == before + 3


async def test_429_waits_as_long_as_retry_after_says(local: LocalServer, client: httpx.AsyncClient) -> None:
    sleeps = Sleeps()

    result = await fetch(SourceRequest(f"{local.url}/limited/once"), client, retry=FAST, sleep=sleeps)

    assert result.body == b"ok"
    assert sleeps.delays == [7.0]


async def test_404_is_permanent_and_not_retried(local: LocalServer, client: httpx.AsyncClient) -> None:
    before = local.hits["/missing"]

    with pytest.raises(SourceFetchError) as raised:
        await fetch(SourceRequest(f"{local.url}/missing"), client, retry=FAST, sleep=Sleeps())

    assert (raised.value.transient, raised.value.status) == (False, 404)
    assert local.hits["/missing"] == before + 1


@pytest.mark.parametrize("route", ["big", "big-declared"])
async def test_a_body_over_the_cap_is_refused(
    local: LocalServer, client: httpx.AsyncClient, route: str
) -> None:
    with pytest.raises(SourceFetchError) as raised:
        await fetch(SourceRequest(f"{local.url}/{route}?size=300000"), client, max_bytes=200_000)

    assert raised.value.transient is False
    assert "200000-byte cap" in raised.value.message


async def test_a_body_at_the_cap_is_accepted(local: LocalServer, client: httpx.AsyncClient) -> None:
    result = await fetch(SourceRequest(f"{local.url}/big?size=200000"), client, max_bytes=200_000)

    assert result.body is not None
    assert len(result.body) == 200_000


async def test_a_timeout_is_transient(local: LocalServer, client: httpx.AsyncClient) -> None:
    with pytest.raises(SourceFetchError) as raised:
        await fetch(
            SourceRequest(f"{local.url}/slow?seconds=1"),
            client,
            timeout_seconds=0.1,
            retry=RetryPolicy(attempts=2, backoff_seconds=0.01),
        )

    assert (raised.value.transient, raised.value.status) == (True, None)
    assert raised.value.message == f"{local.url}/slow?seconds=1: it did not answer in time (after 2 tries)"


async def test_a_refused_connection_is_transient(client: httpx.AsyncClient) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(SourceFetchError) as raised:
        await fetch(SourceRequest(f"http://127.0.0.1:{port}/"), client, retry=FAST, sleep=Sleeps())

    assert raised.value.transient is True
    # in words, not the library's exception text
    assert raised.value.message == f"http://127.0.0.1:{port}/: the connection was refused (after 3 tries)"


class LocalAlpacaEval(AlpacaEval):
    """AlpacaEval read from the local server."""

    def __init__(self, base: str) -> None:
        self.base = base

    def requests(self, settings: SourceSettings) -> list[SourceRequest]:
        return [SourceRequest(f"{self.base}/sample/alpaca_eval.csv")]


class LocalPages(LeaderboardSource):
    """A datasets-server style paginated split served by the local server."""

    key = "local_pages"
    name = "Local pages"
    homepage_url = "http://127.0.0.1/"
    benchmarks = ()
    sample_files = ()

    def __init__(self, base: str, max_rows: int = 10_000) -> None:
        self.base = base
        self.max_rows = max_rows

    def requests(self, settings: SourceSettings) -> list[SourceRequest]:
        return [SourceRequest(f"{self.base}/pages?offset=0&length=100")]

    def follow_ups(self, request: SourceRequest, body: bytes) -> list[SourceRequest]:
        return hf_datasets.next_page(request, body, self.max_rows)

    def parse(self, payloads: Sequence[bytes], fetched_at: datetime) -> SourceSnapshot:
        return SourceSnapshot(None, [])


async def test_fetch_source_gets_what_parse_needs(local: LocalServer, client: httpx.AsyncClient) -> None:
    source = LocalAlpacaEval(local.url)
    fetched_at = datetime(2026, 11, 23, tzinfo=UTC)

    fetched = await fetch_source(source, SETTINGS, client)

    assert fetched.changed is True
    assert source.parse(fetched.payloads, fetched_at) == sample_snapshot(SOURCES["alpaca_eval"], fetched_at)
    validators = fetched.validators[f"{local.url}/sample/alpaca_eval.csv"]
    assert validators.last_modified == LAST_MODIFIED

    unchanged = await fetch_source(source, SETTINGS, client, fetched.validators)

    assert (unchanged.changed, unchanged.payloads) == (False, [])
    assert unchanged.validators == fetched.validators


async def test_fetch_source_refetches_unchanged_parts_when_another_changed(
    local: LocalServer, client: httpx.AsyncClient
) -> None:
    class TwoFiles(LocalAlpacaEval):
        def requests(self, settings: SourceSettings) -> list[SourceRequest]:
            return [
                SourceRequest(f"{self.base}/sample/{n}")
                for n in ("livebench.table.csv", "livebench.categories.json")
            ]

    source = TwoFiles(local.url)
    first = await fetch_source(source, SETTINGS, client)
    only_the_table = {url: v for url, v in first.validators.items() if url.endswith(".csv")}

    again = await fetch_source(source, SETTINGS, client, only_the_table)

    assert again.changed is True
    assert again.payloads == sample_payloads(SOURCES["livebench"])


async def test_fetch_source_follows_pages(local: LocalServer, client: httpx.AsyncClient) -> None:
    before = local.hits["/pages"]

    fetched = await fetch_source(LocalPages(local.url), SETTINGS, client)

    rows = hf_datasets.all_rows(fetched.payloads, "pages")
    assert [row["n"] for row in rows] == list(range(PAGED_ROWS))
    assert len(fetched.payloads) == 3
    assert local.hits["/pages"] == before + 3

    capped = await fetch_source(LocalPages(local.url, max_rows=150), SETTINGS, client)
    assert len(capped.payloads) == 2

    with pytest.raises(SourceFetchError, match="more than 2 requests"):
        await fetch_source(LocalPages(local.url), SETTINGS, client, max_requests=2)
