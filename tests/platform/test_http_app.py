"""GraphQL requests go to the endpoint before Starlette's stack; everything else is Starlette's."""

from __future__ import annotations

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from budgraph.app import create_app
from budgraph.graphql.http_app import GraphQLFirstApp
from budgraph.settings import Settings


async def _failing(request: Request) -> Response:
    if request.method == "POST":
        raise RuntimeError("a bug")
    return JSONResponse({"data": {"method": request.method}})


async def _unexpected(request: Request, error: Exception) -> Response:
    return JSONResponse({"errors": [{"message": f"unexpected {type(error).__name__}"}]}, status_code=500)


async def _other(request: Request) -> Response:
    return PlainTextResponse("starlette's")


def _app() -> GraphQLFirstApp:
    routes = [
        Route("/graphql", _failing, methods=["GET", "POST", "PUT"]),
        Route("/other", _other),
    ]
    return GraphQLFirstApp(_failing, _unexpected, routes=routes)


async def test_a_graphql_request_is_the_endpoints_and_its_unexpected_error_a_json_500() -> None:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://registry") as client:
        got = await client.get("/graphql")
        failed = await client.post("/graphql", json={"query": "{ __typename }"})
        other = await client.get("/other")
        put = await client.put("/graphql")  # not GET or POST: through Starlette's router
    assert (got.status_code, got.json()) == (200, {"data": {"method": "GET"}})
    assert (failed.status_code, failed.json()) == (500, {"errors": [{"message": "unexpected RuntimeError"}]})
    assert (other.status_code, other.text) == (200, "starlette's")
    assert (put.status_code, put.json()) == (200, {"data": {"method": "PUT"}})


def test_the_api_is_served_by_it(live_settings: Settings) -> None:
    assert isinstance(create_app(live_settings), GraphQLFirstApp)
