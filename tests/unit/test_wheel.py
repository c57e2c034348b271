"""The built wheel carries the pages: templates and static files as package data, found by the
renderer in the installed layout, and the command line runs from it."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from onshi.web.rendering import STATIC_DIR, TEMPLATES_DIR

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    (built,) = out.glob("onshi-*.whl")
    return built


def _sources(directory: Path) -> set[str]:
    return {
        path.relative_to(directory).as_posix()
        for path in directory.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_wheel_contains_every_template_and_static_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = _sources(TEMPLATES_DIR)
    statics = _sources(STATIC_DIR)
    assert "base.html" in templates
    assert any(name.endswith(".css") for name in statics)
    assert any("htmx" in name for name in statics)
    missing = sorted(
        [f"templates/{n}" for n in templates if f"onshi/web/_assets/templates/{n}" not in names]
        + [f"static/{n}" for n in statics if f"onshi/web/_assets/static/{n}" not in names]
    )
    assert missing == []
    # and the package data the app reads at run time
    assert "onshi/web/messages.toml" in names
    assert "onshi/db/migrations/env.py" in names
    assert "reader_bridge/kiosk/static/kiosk.css" in names


def test_installed_layout_finds_the_packaged_pages_and_the_cli_runs(
    wheel: Path, tmp_path: Path
) -> None:
    unpacked = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(unpacked)
    env = {**os.environ, "PYTHONPATH": str(unpacked), "ONSHI_DATA_DIR": str(tmp_path / "var")}
    where = subprocess.run(
        [
            sys.executable,
            "-c",
            "import onshi.web.rendering as r; print(r.__file__); print(r.TEMPLATES_DIR);"
            " print(r.STATIC_DIR)",
        ],
        env=env,
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    assert Path(where[0]).is_relative_to(unpacked)
    assert Path(where[1]) == unpacked / "onshi/web/_assets/templates"
    assert (Path(where[1]) / "base.html").is_file()
    assert Path(where[2]) == unpacked / "onshi/web/_assets/static"
    helped = subprocess.run(
        [sys.executable, "-m", "onshi.cli", "--help"],
        env=env,
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    )
    assert "run-demo" in helped.stdout
    assert "serve" in helped.stdout
