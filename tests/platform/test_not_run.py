"""A skipped test is never silent: the run ends with one line saying what did not run and how to get
it, and with BUDGRAPH_TEST_NO_SKIPS=1 (CI) the run fails."""

from __future__ import annotations

import pytest

from tests.not_run import NO_SKIPS

pytest_plugins = ["pytester"]

SUITE = """
import pytest

def test_runs():
    pass

def test_needs_frob():
    pytest.skip("needs frob (apt-get install -y frob)")

@pytest.mark.skipif(True, reason="needs frob (apt-get install -y frob)")
def test_needs_frob_too():
    pass

@pytest.mark.xfail(reason="known")
def test_expected_to_fail():
    assert False
"""
LINE = "NOT RUN (2 skipped): 2 tests: needs frob (apt-get install -y frob)"


def test_the_run_ends_with_what_did_not_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(NO_SKIPS, raising=False)
    pytester.makepyfile(SUITE)
    result = pytester.runpytest("-p", "tests.not_run", "-p", "no:asyncio")
    assert result.ret == pytest.ExitCode.OK
    assert result.outlines[-1] == LINE


def test_ci_fails_a_run_that_skipped(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(NO_SKIPS, "1")
    pytester.makepyfile(SUITE)
    result = pytester.runpytest("-p", "tests.not_run", "-p", "no:asyncio")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert result.outlines[-1] == f"{LINE} ({NO_SKIPS}=1: this fails the run)"


def test_nothing_is_said_when_everything_ran(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(NO_SKIPS, "1")
    pytester.makepyfile("def test_runs():\n    pass\n")
    result = pytester.runpytest("-p", "tests.not_run", "-p", "no:asyncio")
    assert result.ret == pytest.ExitCode.OK
    assert not any("NOT RUN" in line for line in result.outlines)
