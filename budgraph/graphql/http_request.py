"""Reading a GraphQL-over-HTTP request: bounded, timed, and answered with a typed error when malformed.

A JSON body is read whole (at most ``max_json_body_bytes``, within ``body_read_timeout_seconds``)
before anything else happens, so a slow client holds no database connection. An upload (GraphQL
multipart request) is authorised from its headers first, then streamed with its bytes counted: it
stops at the limit instead of spooling gigabytes first, and a client that stops sending is dropped.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.types import Message

from budgraph.graphql.execution import GraphQLRequest
from budgraph.kit.errors import BudgraphError, ErrorCode

# Room for the `operations` and `map` parts and the multipart framing around an upload's file.
MULTIPART_OVERHEAD = 1024 * 1024


class RequestRefused(BudgraphError):
    """An HTTP request that cannot be read as a GraphQL request."""


def bad_request(message: str, field: str | None = None) -> RequestRefused:
    return RequestRefused(message, code=ErrorCode.BAD_REQUEST, field=field)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(raw: bytes | str, what: str) -> Any:
    """JSON as the spec has it: UTF-8, no NaN / Infinity."""
    try:
        return orjson.loads(raw)  # fast, and strict (no NaN); what it refuses is looked at again below
    except orjson.JSONDecodeError:
        pass
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise bad_request(f"{what} is not valid UTF-8") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise bad_request(f"{what} is not valid JSON") from None


def graphql_request(data: Any) -> GraphQLRequest:
    """The parameters of a GraphQL request, each of the type the spec requires.

    With an automatic persisted query (``extensions.persistedQuery.sha256Hash``) the ``query`` may be
    left out: the executor finds the document by its hash, or asks for it.
    """
    if isinstance(data, list):
        raise bad_request("batched requests are not supported: send one operation per request")
    if not isinstance(data, dict):
        raise bad_request("the request body must be a JSON object with a `query`")
    extensions = data.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        raise bad_request("`extensions` must be an object", field="extensions")
    persisted = persisted_hash(extensions)
    query = data.get("query")
    if query is None and persisted is None:
        raise bad_request("the request has no `query`", field="query")
    if query is not None and not isinstance(query, str):
        raise bad_request("`query` must be a string", field="query")
    variables = data.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise bad_request("`variables` must be an object", field="variables")
    operation_name = data.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise bad_request("`operationName` must be a string", field="operationName")
    return GraphQLRequest(
        query=query or "", variables=variables, operation_name=operation_name, persisted_hash=persisted
    )


def persisted_hash(extensions: dict[str, Any] | None) -> str | None:
    """The sha256 of an automatic persisted query (Apollo's protocol, version 1), if one is named."""
    if not extensions or "persistedQuery" not in extensions:
        return None
    persisted = extensions["persistedQuery"]
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise bad_request("`extensions.persistedQuery` must be {version: 1, sha256Hash}", field="extensions")
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise bad_request("`persistedQuery.sha256Hash` must be 64 lowercase hex digits", field="extensions")
    return digest


def from_query_string(params: Mapping[str, str]) -> GraphQLRequest:
    """A GET request's parameters (`variables` and `extensions` are JSON-encoded)."""
    data: dict[str, Any] = {"query": params.get("query"), "operationName": params.get("operationName")}
    for name in ("variables", "extensions"):
        if params.get(name):
            data[name] = parse_json(params[name], f"the `{name}` parameter")
    return graphql_request(data)


def _declared_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    if value is None:
        return None
    if not value.isdigit():
        raise bad_request("the Content-Length header is not a number")
    return int(value)


def too_large(limit: int, what: str) -> RequestRefused:
    return RequestRefused(
        f"{what} is larger than {limit} bytes", code=ErrorCode.PAYLOAD_TOO_LARGE, maximum=limit
    )


async def read_json_body(request: Request, limit: int, deadline: float) -> bytes:
    """The whole body, refusing one over ``limit`` bytes or one that takes longer than ``deadline``."""
    declared = _declared_length(request)
    if declared is not None and declared > limit:
        raise too_large(limit, "the request body")
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(deadline):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise too_large(limit, "the request body")
                chunks.append(chunk)
    except TimeoutError:
        raise RequestRefused(
            f"the request body did not arrive within {deadline:g} s", code=ErrorCode.REQUEST_TIMEOUT
        ) from None
    return b"".join(chunks)


class _CountedReceive:
    """An ASGI receive channel that stops a body at ``limit`` bytes or after ``idle`` silent seconds."""

    def __init__(self, request: Request, limit: int, idle: float) -> None:
        self._receive = request.receive
        self.limit = limit
        self.idle = idle
        self.size = 0

    async def __call__(self) -> Message:
        try:
            message = await asyncio.wait_for(self._receive(), self.idle)
        except TimeoutError:
            raise RequestRefused(
                f"the upload sent nothing for {self.idle:g} s", code=ErrorCode.REQUEST_TIMEOUT
            ) from None
        if message["type"] == "http.request":
            self.size += len(message.get("body", b""))
            if self.size > self.limit:
                raise too_large(self.limit, "the upload")
        return message


def _place_files(operations: dict[str, Any], files_map: Any, files: Mapping[str, UploadFile]) -> None:
    """Put each uploaded file where the `map` part says (GraphQL multipart request spec)."""
    if not isinstance(files_map, dict):
        raise bad_request("the `map` part must be a JSON object", field="map")
    for part, paths in files_map.items():
        if part not in files:
            raise bad_request(f"the `map` part names a file {part!r} that was not sent", field="map")
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise bad_request("each entry of the `map` part must be a list of paths", field="map")
        for path in paths:
            *parents, last = path.split(".")
            target: Any = operations
            try:
                for key in parents:
                    target = target[int(key)] if isinstance(target, list) else target[key]
                if isinstance(target, list):
                    target[int(last)] = files[part]
                elif isinstance(target, dict) and last in target:
                    target[last] = files[part]
                else:
                    raise KeyError(last)
            except (KeyError, IndexError, ValueError, TypeError):
                raise bad_request(f"the `map` path {path!r} does not name a variable", field="map") from None


async def read_upload(request: Request, limit: int, idle: float) -> GraphQLRequest:
    """A GraphQL multipart request, its files streamed with their bytes counted."""
    declared = _declared_length(request)
    budget = limit + MULTIPART_OVERHEAD
    if declared is not None and declared > budget:
        raise too_large(limit, "the upload")
    counted = Request(request.scope, _CountedReceive(request, budget, idle))
    try:
        form = await counted.form(max_files=1, max_fields=2, max_part_size=MULTIPART_OVERHEAD)
    except MultiPartException as error:
        raise bad_request(f"the multipart body cannot be read: {error.message}") from None
    request.state.form = form  # closed by the endpoint when the request is answered
    operations = form.get("operations")
    if not isinstance(operations, str):
        raise bad_request("a multipart request needs an `operations` part", field="operations")
    data = parse_json(operations, "the `operations` part")
    if not isinstance(data, dict):
        raise bad_request("the `operations` part must be one JSON object (batches are not supported)")
    raw_map = form.get("map")
    if not isinstance(raw_map, str):
        raise bad_request("a multipart request needs a `map` part", field="map")
    files = {name: value for name, value in form.multi_items() if isinstance(value, UploadFile)}
    _place_files(data, parse_json(raw_map, "the `map` part"), files)
    for upload in files.values():
        if upload.size is not None and upload.size > limit:
            raise too_large(limit, "the upload")
    return graphql_request(data)
