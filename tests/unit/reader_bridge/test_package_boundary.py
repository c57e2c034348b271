"""reader_bridge never imports the portal package (they speak only the documented API)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import reader_bridge

PACKAGE = Path(reader_bridge.__file__).parent


def test_no_module_of_reader_bridge_imports_onshi() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "onshi"]
    assert offenders == []


def test_importing_every_module_loads_no_onshi_module() -> None:
    modules = sorted(
        ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        for path in PACKAGE.rglob("*.py")
        if path.name != "__init__.py" and "pcsc" not in path.name
    )
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m == 'onshi' or m.startswith('onshi.'))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
