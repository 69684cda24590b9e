"""Nothing is skipped silently.

A test that cannot run here (a system package is missing) is skipped with a reason that says how to
install what it needs; the run then ends with one line listing what did not run and why. With
``BUDGRAPH_TEST_NO_SKIPS=1`` (CI) any skip fails the run.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator

import pytest

NO_SKIPS = "BUDGRAPH_TEST_NO_SKIPS"


class NotRun:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.reasons: Counter[str] = Counter()
        self.strict = os.environ.get(NO_SKIPS) == "1"

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.skipped and not hasattr(report, "wasxfail"):
            longrepr = report.longrepr
            text = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
            self.reasons[text.removeprefix("Skipped: ")] += 1

    def line(self) -> str | None:
        if not self.reasons:
            return None
        parts = [f"{n} test{'s' if n > 1 else ''}: {why}" for why, n in sorted(self.reasons.items())]
        suffix = f" ({NO_SKIPS}=1: this fails the run)" if self.strict else ""
        return f"NOT RUN ({self.reasons.total()} skipped): " + "; ".join(parts) + suffix

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> Iterator[None]:
        """Around the terminal's own summary, so that the line comes last."""
        if self.reasons and self.strict and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        yield
        line = self.line()
        terminal = self.config.pluginmanager.get_plugin("terminalreporter")
        if line is not None and terminal is not None:
            terminal.write_line(line, red=self.strict, yellow=not self.strict, bold=True)


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(NotRun(config), "budgraph-not-run")
