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


def test_a_masked_error_logs_one_line_and_its_traceback_once(caplog: pytest.LogCaptureFixture) -> None:
    def fail() -> None:
        raise RuntimeError("the same bug, again")

    errors = []
    for _ in range(3):
        try:
            fail()
        except RuntimeError as raised:
            errors.append(GraphQLError("boom", path=["engines"], original_error=raised))
    with caplog.at_level(logging.ERROR, logger="budgraph.graphql"):
        masked = [classify(error) for error in errors]
    lines = [record for record in caplog.records if record.name == "budgraph.graphql"]
    one_liners = [r for r in lines if r.getMessage().startswith("unexpected error")]
    with_traceback = [r for r in lines if r.exc_info]
    assert len(one_liners) == 3
    assert all("\n" not in r.getMessage() for r in one_liners)
    assert len(with_traceback) == 1
    assert {m.extensions["requestId"] for m in masked if m.extensions} == {
        r.getMessage().split()[2] for r in one_liners
    }
