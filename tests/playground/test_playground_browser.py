"""The playground in a real headless Chromium, against the real app and database, with no internet.

Every request for a host other than 127.0.0.1 is aborted and recorded; the test fails if there is any,
or if the browser logs an error. CI needs Debian's chromium (``apt-get install -y chromium``) and the
``playwright`` package (its Python API only: no ``playwright install``, we drive the system browser).
"""

from __future__ import annotations

import json
import random
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
import uvicorn
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from budgraph.app import create_app
from budgraph.auth.service import create_key
from budgraph.db import ApiKey, RegistryState
from budgraph.db.enums import ApiKeyScope
from budgraph.registry.repository import current_version
from budgraph.settings import Settings
from tests.conftest import Servers

if TYPE_CHECKING:
    from playwright.async_api import Page, Request, Route

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOST = "127.0.0.1"
QUERY = "{ registryVersion }"
# GraphiQL 3's CodeMirror 5 editors
QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
HEADERS_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
RESULT = ".graphiql-response .CodeMirror"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)",
    ),
]


@pytest.fixture
def server(database_url: str, servers: Servers, tmp_path: Path) -> Iterator[str]:
    """The real app (its own engine and pool) served by uvicorn on a free local port."""
    settings = Settings(
        database_url=database_url,
        redis_url=servers.redis_url,
        objects_dir=tmp_path / "objects",
        playground=True,
        require_api_key_for_reads=False,
    )
    app = create_app(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((LOCAL_HOST, 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="on", log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start within 30 s"
        time.sleep(0.05)
    try:
        yield f"http://{LOCAL_HOST}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@pytest.fixture
async def api_key(engine: AsyncEngine) -> AsyncIterator[str]:
    """A real key, committed so the server's own connections see it; deleted afterwards."""
    name = f"playground-browser-{uuid.uuid4().hex[:12]}"
    async with AsyncSession(engine) as session:
        token = await create_key(session, name, ApiKeyScope.READ)
        await session.commit()
    try:
        yield token
    finally:
        async with AsyncSession(engine) as session:
            await session.execute(delete(ApiKey).where(ApiKey.name == name))
            await session.commit()


@pytest.fixture
async def registry_version(engine: AsyncEngine) -> AsyncIterator[int]:
    """A registry version no default could produce, set for the test and restored afterwards."""
    async with AsyncSession(engine) as session:
        original = await current_version(session)
    distinctive = original + random.randint(1_000, 9_999)
    async with AsyncSession(engine) as session:
        await session.execute(update(RegistryState).values(version=distinctive))
        await session.commit()
    try:
        yield distinctive
    finally:
        async with AsyncSession(engine) as session:
            await session.execute(update(RegistryState).values(version=original))
            await session.commit()


@dataclass
class Traffic:
    blocked: list[str] = field(default_factory=list)
    local: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)  # method, url, headers
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


async def test_playground_runs_a_query_offline(
    server: str, api_key: str, registry_version: int, engine: AsyncEngine, tmp_path: Path
) -> None:
    # imported here: without playwright this test fails on its own, the others still run
    from playwright.async_api import async_playwright, expect

    async with AsyncSession(engine) as session:
        expected = await current_version(session)  # what the database holds, as the app will read it
    assert expected == registry_version
    traffic = Traffic()

    async def only_local(route: Route) -> None:
        request = route.request
        if urlsplit(request.url).hostname != LOCAL_HOST:
            traffic.blocked.append(request.url)
            await route.abort("internetdisconnected")
            return
        traffic.local.append((request.method, request.url, dict(request.headers)))
        await route.continue_()

    def failed(request: Request) -> None:
        if urlsplit(request.url).hostname == LOCAL_HOST:
            traffic.failed.append(f"{request.method} {request.url}: {request.failure}")

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = await browser.new_context(
                viewport={"width": 1280, "height": 800}, service_workers="block"
            )
            page = await context.new_page()
            await page.route("**/*", only_local)
            page.on("console", lambda m: traffic.console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda error: traffic.page_errors.append(str(error)))
            page.on("requestfailed", failed)

            # given the playground, as served by the app
            response = await page.goto(f"{server}/graphql", wait_until="load")
            assert response is not None
            assert response.status == 200
            query_editor = page.locator(QUERY_EDITOR)
            await expect(
                query_editor,
                f"GraphiQL did not render; blocked: {traffic.blocked}, errors: {traffic.page_errors}",
            ).to_be_visible(timeout=15_000)

            # when the user types a query, puts an API key in the headers editor and clicks run
            await query_editor.click()
            await page.keyboard.press("Control+A")
            await page.keyboard.press("Delete")
            await page.keyboard.insert_text(QUERY)
            await page.keyboard.press("Escape")  # close the autocompletion popup, if any
            assert await _editor_value(page, QUERY_EDITOR) == QUERY

            await page.get_by_role("button", name="Headers", exact=True).click()
            headers_editor = page.locator(HEADERS_EDITOR)
            await expect(headers_editor).to_be_visible()
            await headers_editor.click()
            headers = json.dumps({"Authorization": f"Bearer {api_key}"})
            await page.keyboard.insert_text(headers)
            await page.keyboard.press("Escape")
            assert json.loads(await _editor_value(page, HEADERS_EDITOR)) == {
                "Authorization": f"Bearer {api_key}"
            }

            await page.locator(".graphiql-execute-button").click()

            # then the result pane shows what the database holds
            result = page.locator(RESULT)
            await expect(result).to_contain_text(f'"registryVersion": {expected}', timeout=15_000)
            answer = json.loads(await _editor_value(page, RESULT))
            assert answer["data"] == {"registryVersion": expected}
            assert answer["extensions"]["cost"] == {"requested": 0, "maximum": 25_000}
            await page.screenshot(path=tmp_path / "playground.png", full_page=True)
        finally:
            await browser.close()

    # and everything came from this origin, the query went to /graphql with the key, and nothing failed
    assert traffic.blocked == []
    assert traffic.failed == []
    assert traffic.console_errors == []
    assert traffic.page_errors == []
    paths = [(method, urlsplit(url).path) for method, url, _ in traffic.local]
    assert ("GET", "/graphql") in paths
    assert {path for _, path in paths if path.startswith("/playground-assets/")} == {
        "/playground-assets/react/react.production.min.js",
        "/playground-assets/react-dom/react-dom.production.min.js",
        "/playground-assets/graphiql/graphiql.min.js",
        "/playground-assets/graphiql/graphiql.min.css",
    }
    executions = [
        headers
        for method, url, headers in traffic.local
        if method == "POST" and urlsplit(url).path == "/graphql" and headers.get("authorization")
    ]
    assert executions, "the query was not POSTed to /graphql with the API key"
    assert all(headers["authorization"] == f"Bearer {api_key}" for headers in executions)
    print(f"screenshot: {tmp_path / 'playground.png'}")


async def _editor_value(page: Page, selector: str) -> str:
    """The text of a CodeMirror 5 editor (its DOM holds only the rendered lines)."""
    value: str = await page.evaluate("(s) => document.querySelector(s).CodeMirror.getValue()", selector)
    return value
