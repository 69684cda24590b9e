"""Unexpected failures are masked (no internals leak) and logged with a request id."""

from __future__ import annotations

import logging

import pytest
from graphql.error import GraphQLError

from budgraph.graphql.errors import classify
from budgraph.kit.errors import NotFound


def test_unexpected_resolver_error_is_masked_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    error = GraphQLError(
        "boom: password=hunter2", path=["engines"], original_error=RuntimeError("password=hunter2")
    )
    with caplog.at_level(logging.ERROR, logger="budgraph.graphql"):
        masked = classify(error)
    request_id = masked.extensions["requestId"] if masked.extensions else None
    assert masked.message == f"internal server error (request id {request_id})"
    assert masked.extensions == {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
    assert "hunter2" not in masked.message
    assert request_id in caplog.text


def test_expected_errors_pass_through() -> None:
    error = GraphQLError("no such engine", path=["engine"], original_error=NotFound("no such engine"))
    assert classify(error) is error
