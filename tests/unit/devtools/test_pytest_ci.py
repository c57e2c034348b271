"""The skip guard CI relies on: with ONSHI_FAIL_ON_SKIP=1 any skip fails the run."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

CONFTEST = """
from onshi.devtools.pytest_ci import register

def pytest_configure(config):
    register(config)
"""


def _run_pytest(
    tmp_path: Path, body: str, *, fail_on_skip: bool
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_sample.py").write_text(textwrap.dedent(body))
    env = {key: value for key, value in os.environ.items() if key != "ONSHI_FAIL_ON_SKIP"}
    if fail_on_skip:
        env["ONSHI_FAIL_ON_SKIP"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


SKIPPING = """
import pytest

def test_runs():
    assert 1 + 1 == 2

@pytest.mark.skip(reason="needs a card reader")
def test_skipped():
    pass
"""


def test_a_skip_fails_the_run_when_enabled(tmp_path: Path) -> None:
    result = _run_pytest(tmp_path, SKIPPING, fail_on_skip=True)
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.stdout
    assert "test_sample.py::test_skipped: needs a card reader" in result.stdout


def test_a_skip_is_only_reported_when_disabled(tmp_path: Path) -> None:
    result = _run_pytest(tmp_path, SKIPPING, fail_on_skip=False)
    assert result.returncode == pytest.ExitCode.OK, result.stdout
    assert "1 skipped" in result.stdout


def test_a_skipped_module_fails_the_run(tmp_path: Path) -> None:
    body = """
    import pytest

    pytest.skip("PostgreSQL not configured", allow_module_level=True)

    def test_never_runs():
        pass
    """
    result = _run_pytest(tmp_path, body, fail_on_skip=True)
    assert result.returncode != pytest.ExitCode.OK, result.stdout
    assert "PostgreSQL not configured" in result.stdout


def test_xfail_and_passes_do_not_fail_the_run(tmp_path: Path) -> None:
    body = """
    import pytest

    def test_runs():
        assert True

    @pytest.mark.xfail(reason="known", strict=True)
    def test_known_failure():
        raise AssertionError
    """
    result = _run_pytest(tmp_path, body, fail_on_skip=True)
    assert result.returncode == pytest.ExitCode.OK, result.stdout


def test_a_failure_keeps_its_own_exit_code(tmp_path: Path) -> None:
    body = """
    import pytest

    def test_fails():
        raise AssertionError

    @pytest.mark.skip(reason="later")
    def test_skipped():
        pass
    """
    result = _run_pytest(tmp_path, body, fail_on_skip=True)
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.stdout
