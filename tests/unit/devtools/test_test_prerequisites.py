"""The prerequisites check: apt-get update runs only when an install fails for want of lists."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

import pytest

from onshi.devtools import test_prerequisites as prereq


class FakeApt:
    def __init__(self, *outcomes: tuple[int, str]) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[list[str]] = []

    def __call__(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        self.calls.append(list(argv))
        code, stderr = self.outcomes.pop(0)
        return subprocess.CompletedProcess(list(argv), code, "", stderr)


def test_install_succeeds_without_update() -> None:
    apt = FakeApt((0, ""))
    assert prereq.apt_install(["swig"], run=apt)
    assert apt.calls == [["apt-get", "install", "-y", "swig"]]


def test_missing_lists_trigger_one_update_and_retry() -> None:
    apt = FakeApt((100, "E: Unable to locate package swig"), (0, ""), (0, ""))
    assert prereq.apt_install(["swig", "pcscd"], run=apt)
    assert apt.calls == [
        ["apt-get", "install", "-y", "swig", "pcscd"],
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "swig", "pcscd"],
    ]


def test_stale_lists_trigger_update() -> None:
    apt = FakeApt((100, "E: Failed to fetch http://x/pool/c.deb  404  Not Found"), (0, ""), (0, ""))
    assert prereq.apt_install(["chromium"], run=apt)
    assert ["apt-get", "update"] in apt.calls


def test_other_failures_do_not_update() -> None:
    apt = FakeApt((100, "E: Could not get lock /var/lib/dpkg/lock-frontend"))
    assert not prereq.apt_install(["swig"], run=apt)
    assert apt.calls == [["apt-get", "install", "-y", "swig"]]


def test_missing_packages_are_named_with_the_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    absent = prereq.Requirement("no-such-package-xyz", "a test", ("/nonexistent/file",))
    monkeypatch.setattr(prereq, "REQUIREMENTS", (absent,))
    monkeypatch.setattr(prereq, "missing_packages", lambda: [absent])
    monkeypatch.setattr(prereq, "_is_root", lambda: False)
    assert prereq.main([]) == 1
    err = capsys.readouterr().err
    assert "no-such-package-xyz" in err
    assert "sudo apt-get install -y no-such-package-xyz" in err


def test_absent_probe_means_missing() -> None:
    absent = prereq.Requirement("coreutils", "a test", ("/nonexistent/file", "cmd:no-such-cmd"))
    assert prereq.missing_packages([absent]) == [absent]
