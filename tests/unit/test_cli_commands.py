"""One command table: the console script and ``python -m onshi.cli`` offer the same commands,
and no domain module registers commands by importing the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from onshi.cli import COMMANDS, _resolve, build_parser

SRC = Path(__file__).resolve().parents[2] / "src" / "onshi"


def _help(command: list[str]) -> str:
    return subprocess.run(
        [*command, "--help"], capture_output=True, text=True, check=True, timeout=60
    ).stdout


def test_module_form_lists_every_command() -> None:
    listed = _help([sys.executable, "-m", "onshi.cli"])
    for name in COMMANDS:
        assert name in listed, name


def test_module_form_and_console_script_agree() -> None:
    script = Path(sys.executable).with_name("onshi")
    module_help = _help([sys.executable, "-m", "onshi.cli"])
    assert _help([str(script)]).split("\n", 1)[1] == module_help.split("\n", 1)[1]


def test_every_command_and_option_hook_resolves() -> None:
    for spec in COMMANDS.values():
        assert callable(_resolve(spec.run))
        if spec.configure is not None:
            assert callable(_resolve(spec.configure))
    build_parser()


def test_no_domain_module_imports_the_cli() -> None:
    offenders = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if path.name != "cli.py" or path.parent != SRC
        if "from onshi.cli import" in path.read_text(encoding="utf-8")
        or "import onshi.cli" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
