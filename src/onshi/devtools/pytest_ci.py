"""pytest plugin shared by ``tests/conftest.py`` and ``e2e/conftest.py``: CI never skips.

docs/CONTRIBUTING.md: a test that needs a missing service says so, and CI must never skip. With
``ONSHI_FAIL_ON_SKIP=1`` in the environment (``.ci/run`` sets it) any skipped test or skipped
module turns an otherwise green run into a failure, and the summary lists every skip with its
reason. A run that collected no test at all already exits 5, which ``make`` and ``.ci/run``
treat as a failure. An xfail is not a skip.

Each conftest calls :func:`register` from its ``pytest_configure``.
"""

from __future__ import annotations

import os

import pytest
from _pytest.terminal import TerminalReporter

FAIL_ON_SKIP_ENV = "ONSHI_FAIL_ON_SKIP"
PLUGIN_NAME = "onshi-skip-guard"


def fail_on_skip_enabled() -> bool:
    return os.environ.get(FAIL_ON_SKIP_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def _reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


class SkipGuard:
    """Records every skip; fails the session on any when :data:`FAIL_ON_SKIP_ENV` is set."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.skips: list[tuple[str, str]] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.skipped and not hasattr(report, "wasxfail"):
            self.skips.append((report.nodeid, _reason(report)))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.skipped:
            self.skips.append((report.nodeid or "<collection>", _reason(report)))

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.enabled and self.skips and exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: TerminalReporter) -> None:
        if not (self.enabled and self.skips):
            return
        terminalreporter.section(f"{FAIL_ON_SKIP_ENV}: skipped tests fail this run", red=True)
        for nodeid, reason in self.skips:
            terminalreporter.line(f"SKIPPED {nodeid}: {reason}", red=True)
        terminalreporter.line(
            f"{len(self.skips)} skipped; CI must never skip (docs/CONTRIBUTING.md): install or "
            "start what the reason names, or fix the test.",
            red=True,
        )


def register(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin(PLUGIN_NAME):
        config.pluginmanager.register(SkipGuard(fail_on_skip_enabled()), PLUGIN_NAME)
