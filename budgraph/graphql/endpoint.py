"""The GraphQL-over-HTTP endpoint (GET and POST on /graphql).

Every request gets a JSON answer with a stable error code, never a plain-text error or a 5xx for
bad input. Status codes follow the GraphQL-over-HTTP specification: with
``Accept: application/graphql-response+json`` a request error (the document cannot be parsed or
validated, an input is over its limits) is a 400 and the answer has no ``data``; with the legacy
``application/json`` every well-formed request is answered with 200. Refusals of the HTTP request
itself have their own status: 400 malformed, 401 / 403 missing or insufficient key, 405 mutation
over GET, 406 nothing acceptable, 408 slow body, 413 too large, 415 wrong content type, 429 over
the rate limit, 503 database unreachable, 504 deadline passed.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from graphql import OperationType
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response

from budgraph.auth.keys import Principal
from budgraph.db.enums import ApiKeyScope
from budgraph.graphql.context import Context
from budgraph.graphql.execution import Executor, GraphQLRequest, Outcome, refused
from budgraph.graphql.http_request import (
    RequestRefused,
    from_query_string,
    graphql_request,
    parse_json,
    read_json_body,
    read_upload,
)
from budgraph.graphql.principals import Authenticator
from budgraph.kit.errors import HTTP_STATUS, BudgraphError, ErrorCode
from budgraph.playground import CONTENT_SECURITY_POLICY, render_playground

log = logging.getLogger("budgraph.http")

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


def negotiate(accept: str | None) -> str | None:
    """The media type to answer with, or None if the client accepts neither of ours."""
    if not accept:
        return JSON
    offered: list[tuple[float, str]] = []
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        if quality > 0:
            offered.append((quality, media.lower()))
    offered.sort(key=lambda item: -item[0])
    for _, media in offered:
        if media == GRAPHQL_RESPONSE:
            return GRAPHQL_RESPONSE
        if media in (JSON, "application/*", "*/*"):
            return JSON
    return None


def _status(outcome: Outcome, media: str) -> int:
    if outcome.refused is not None:
        code = outcome.refused.code
        if code in HTTP_STATUS:
            return HTTP_STATUS[code]
    if "data" not in outcome.body and media == GRAPHQL_RESPONSE:
        return 400
    if outcome.body.get("data") is None and _only(outcome, ErrorCode.SERVICE_UNAVAILABLE):
        return 503
    return 200


def _only(outcome: Outcome, code: ErrorCode) -> bool:
    errors = outcome.body.get("errors") or []
    return bool(errors) and all((e.get("extensions") or {}).get("code") == code.value for e in errors)


def respond(outcome: Outcome, media: str) -> Response:
    headers = dict(outcome.headers)
    if outcome.etag is not None:
        headers["ETag"] = outcome.etag
        headers["Cache-Control"] = "no-cache"  # may be kept, but asked again (If-None-Match) each time
    if outcome.not_modified:
        return Response(status_code=304, headers=headers)
    status = _status(outcome, media)
    if status == 405:
        headers["Allow"] = "POST"
    if status == 503:
        headers.setdefault("Retry-After", "5")
    return Response(outcome.encode(), status_code=status, media_type=media, headers=headers)


def refuse(error: BudgraphError, media: str | None) -> Response:
    outcome = refused(error)
    outcome.headers.update(getattr(error, "headers", None) or {})  # Retry-After of a throttled caller
    return respond(outcome, media or JSON)


class GraphQLEndpoint:
    """Reads the request, authenticates the caller, and hands the operation to the executor."""

    def __init__(self, executor: Executor, authenticator: Authenticator, context: Context) -> None:
        self.executor = executor
        self.authenticator = authenticator
        self.template = context  # settings, queue, store and sessions; a copy per request
        self.settings = context.settings

    async def handle(self, request: Request) -> Response:
        media = negotiate(request.headers.get("accept"))
        try:
            return await self._handle(request, media)
        except BudgraphError as error:
            return refuse(error, media)
        except ClientDisconnect:
            return Response(status_code=400)
        finally:
            form = getattr(request.state, "form", None)
            if form is not None:
                await form.close()

    async def _handle(self, request: Request, media: str | None) -> Response:
        if request.method == "GET" and "query" not in request.query_params and self._wants_page(request):
            if not self.settings.playground:
                raise RequestRefused("the playground is turned off here", code=ErrorCode.NOT_FOUND)
            return HTMLResponse(
                render_playground(endpoint=request.url.path),
                headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY},
            )
        if media is None:
            raise RequestRefused(
                f"answers are {GRAPHQL_RESPONSE} or {JSON}; the Accept header allows neither",
                code=ErrorCode.NOT_ACCEPTABLE,
            )
        if request.method not in ("GET", "POST"):
            raise RequestRefused("use GET or POST", code=ErrorCode.METHOD_NOT_ALLOWED)
        address = request.client.host if request.client else None
        if request.method == "GET":
            graphql = from_query_string(request.query_params)
            graphql = replace(graphql, if_none_match=request.headers.get("if-none-match"), get=True)
            return await self._operation(request, media, graphql, address, get=True)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type == "multipart/form-data":
            principal = await self._principal(request, address)
            if principal is None:
                raise RequestRefused(
                    "uploads need an API key with the `write` scope", code=ErrorCode.UNAUTHENTICATED
                )
            if not principal.allows(ApiKeyScope.WRITE):
                raise RequestRefused(
                    f"the API key {principal.key_name!r} may not upload (it needs the `write` scope)",
                    code=ErrorCode.FORBIDDEN,
                )
            graphql = await read_upload(
                request, self.settings.upload_max_bytes, self.settings.upload_idle_timeout_seconds
            )
            return await self._run(self._context(principal, address), graphql, media, get=False)
        if content_type not in (JSON, GRAPHQL_RESPONSE):
            raise RequestRefused(
                "send the operation as application/json (or multipart/form-data for an upload)",
                code=ErrorCode.UNSUPPORTED_MEDIA_TYPE,
            )
        body = await read_json_body(
            request, self.settings.max_json_body_bytes, self.settings.body_read_timeout_seconds
        )
        if not body.strip():
            raise RequestRefused("the request body is empty", code=ErrorCode.BAD_REQUEST)
        return await self._operation(
            request, media, graphql_request(parse_json(body, "the request body")), address, get=False
        )

    @staticmethod
    def _wants_page(request: Request) -> bool:
        return "text/html" in request.headers.get("accept", "")

    def _context(self, principal: Principal | None, address: str | None) -> Context:
        # The process's shared parts (settings, queue, caches) with this request's caller.
        return replace(self.template, principal=principal, client_address=address)

    async def _principal(self, request: Request, address: str | None) -> Principal | None:
        return await self.authenticator.principal(request.headers.get("authorization"), address)

    async def _operation(
        self, request: Request, media: str, graphql: GraphQLRequest, address: str | None, *, get: bool
    ) -> Response:
        principal = await self._principal(request, address)
        if principal is None and self.settings.require_api_key_for_reads:
            raise RequestRefused(
                "an API key is required (Authorization: Bearer <key>)", code=ErrorCode.UNAUTHENTICATED
            )
        return await self._run(self._context(principal, address), graphql, media, get=get)

    async def _run(self, context: Context, graphql: GraphQLRequest, media: str, *, get: bool) -> Response:
        allowed = (
            frozenset({OperationType.QUERY})
            if get
            else frozenset({OperationType.QUERY, OperationType.MUTATION})
        )

        def refuse_other(kind: OperationType) -> BudgraphError:
            if kind is OperationType.MUTATION:
                return BudgraphError("mutations are sent with POST", code=ErrorCode.METHOD_NOT_ALLOWED)
            return BudgraphError(
                "subscriptions run over a WebSocket (graphql-transport-ws on this path)",
                code=ErrorCode.BAD_REQUEST,
            )

        outcome = await self.executor.run(context, graphql, allowed, refuse_other)
        return respond(outcome, media)
