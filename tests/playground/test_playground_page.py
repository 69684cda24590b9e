"""The playground page and its vendored assets, without a browser: everything comes from this origin."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import AsyncIterator
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from budgraph.app import create_app
from budgraph.jobs.queue import ArqJobQueue
from budgraph.kit.db import RequestSession
from budgraph.playground import ASSETS_MOUNT, CONTENT_SECURITY_POLICY, SCRIPTS, STYLESHEETS, render_playground
from budgraph.settings import Settings
from budgraph.storage import LocalObjectStore
from tests.playground.helpers import STATIC, asset_urls, parse_page, recorded_hashes

BASE = "http://budgraph.test"
JS_TYPES = {"text/javascript", "application/javascript"}


async def _http(
    sessions: async_sessionmaker[RequestSession],
    queue: ArqJobQueue,
    store: LocalObjectStore,
    *,
    playground: bool,
) -> httpx.AsyncClient:
    app = create_app(Settings(playground=playground), sessions=sessions, queue=queue, store=store)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)


@pytest.fixture
async def http(
    sessions: async_sessionmaker[RequestSession], queue: ArqJobQueue, store: LocalObjectStore
) -> AsyncIterator[httpx.AsyncClient]:
    async with await _http(sessions, queue, store, playground=True) as client:
        yield client


def test_page_references_no_other_origin() -> None:
    html = render_playground("/graphql")
    parts = parse_page(html)

    # every URL in an attribute is relative to the page (no scheme, no host) except the empty data: favicon
    assert parts.urls, "the page references no URL at all"
    for tag, attribute, url in parts.urls:
        split = urlsplit(url)
        if (tag, attribute, url) == ("link", "href", "data:,"):
            continue
        assert (split.scheme, split.netloc) == ("", ""), (tag, attribute, url)
        assert not url.startswith(("/", "\\")), f"{url} is not relative to the page"
    # and no absolute or protocol-relative URL hides anywhere else (inline script, config, text)
    assert "://" not in html
    assert not re.search(r"""["'(=]\s*//""", html)
    for needle in ("cdn", "unpkg", "jsdelivr", "esm.sh", "googleapis"):
        assert needle not in html.lower()


def test_page_loads_the_vendored_assets_in_order() -> None:
    base = ASSETS_MOUNT.lstrip("/")
    assert asset_urls(render_playground()) == [f"{base}/{path}" for path in (*STYLESHEETS, *SCRIPTS)]
    assert [path.split("/")[-1] for path in SCRIPTS] == [
        "react.production.min.js",
        "react-dom.production.min.js",
        "graphiql.min.js",
    ]


def test_fetcher_posts_to_the_endpoint_of_this_origin() -> None:
    parts = parse_page(render_playground("/graphql"))
    (config_text,) = parts.json_blocks
    config = json.loads(config_text)
    assert config["endpoint"] == "/graphql"
    assert "registryVersion" in config["defaultQuery"]
    (bootstrap,) = parts.inline_scripts
    assert "GraphiQL.createFetcher({ url: new URL(config.endpoint, window.location.href).href })" in bootstrap
    assert "shouldPersistHeaders: false" in bootstrap
    assert "isHeadersEditorEnabled: true" in bootstrap


def test_endpoint_must_be_a_path_of_this_origin() -> None:
    for endpoint in ("https://example.com/graphql", "//example.com/graphql", "graphql"):
        with pytest.raises(ValueError, match="must be a path on this origin"):
            render_playground(endpoint)


def test_config_cannot_close_its_script_element() -> None:
    html = render_playground("/x</script><script>alert(1)</script>")
    assert html.count("</script>") == 1 + len(SCRIPTS) + 1  # the config block, the assets, the bootstrap
    (config_text,) = parse_page(html).json_blocks
    assert json.loads(config_text)["endpoint"] == "/x</script><script>alert(1)</script>"


def test_content_security_policy_allows_only_this_origin_and_the_inline_bootstrap() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["connect-src"] == "'self'"
    (bootstrap,) = parse_page(render_playground()).inline_scripts
    digest = base64.b64encode(hashlib.sha256(bootstrap.encode()).digest()).decode()
    assert directives["script-src"] == f"'self' 'sha256-{digest}'"
    allowed = {"'self'", "'none'", "'unsafe-inline'", "data:", f"'sha256-{digest}'"}
    for sources in directives.values():
        assert set(sources.split()) <= allowed, sources


def test_assets_md_records_every_vendored_file() -> None:
    hashes = recorded_hashes()
    on_disk = {
        path.relative_to(STATIC).as_posix()
        for path in STATIC.rglob("*")
        if path.is_file() and path.name != "ASSETS.md"
    }
    assert set(hashes) == on_disk
    for path, digest in hashes.items():
        assert hashlib.sha256((STATIC / path).read_bytes()).hexdigest() == digest, path
    for path in (*SCRIPTS, *STYLESHEETS):
        assert path in hashes
        assert (STATIC / path).parent.joinpath("LICENSE").is_file(), f"no LICENSE next to {path}"
        assert "MIT License" in (STATIC / path).parent.joinpath("LICENSE").read_text()
    text = (STATIC / "ASSETS.md").read_text()
    for row in re.findall(r"^\| `([^`]+)` \| `[^`]+` \| `[^`]+` \| (\d+) \|", text, flags=re.M):
        assert (STATIC / row[0]).stat().st_size == int(row[1]), row
    total = sum((STATIC / path).stat().st_size for path in hashes)
    assert total < 3 * 1024 * 1024, f"the vendored assets weigh {total} bytes"


async def test_get_graphql_as_html_serves_the_playground(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.text == render_playground("/graphql")


async def test_every_asset_of_the_page_is_served(http: httpx.AsyncClient) -> None:
    page = await http.get("/graphql", headers={"Accept": "text/html"})
    hashes = recorded_hashes()

    urls = asset_urls(page.text)
    assert len(urls) == len(SCRIPTS) + len(STYLESHEETS)
    for url in urls:
        absolute = urljoin(f"{BASE}/graphql", url)
        assert absolute.startswith(f"{BASE}{ASSETS_MOUNT}/")
        response = await http.get(absolute)
        assert response.status_code == 200, absolute
        content_type = response.headers["content-type"].split(";")[0].strip()
        if url.endswith(".js"):
            assert content_type in JS_TYPES, (url, content_type)
        else:
            assert content_type == "text/css", (url, content_type)
        path = absolute.removeprefix(f"{BASE}{ASSETS_MOUNT}/")
        assert hashlib.sha256(response.content).hexdigest() == hashes[path]


async def test_queries_still_answer_json(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 200
    assert response.json()["data"] == {"__typename": "Query"}


async def test_no_playground_and_no_assets_when_disabled(
    sessions: async_sessionmaker[RequestSession], queue: ArqJobQueue, store: LocalObjectStore
) -> None:
    async with await _http(sessions, queue, store, playground=False) as http:
        page = await http.get("/graphql", headers={"Accept": "text/html"})
        asset = await http.get(f"{ASSETS_MOUNT}/{SCRIPTS[0]}")

    assert page.status_code == 404
    assert asset.status_code == 404
