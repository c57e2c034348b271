"""Benchmarks: separate from the tests (docs/CONTRIBUTING.md).

A benchmark is a module ``bench/<name>.py`` (a name not starting with ``_``) that:

- has a docstring whose first line says what it measures;
- runs as ``python -m bench.<name>``: it starts what it needs (the server as a subprocess on a
  free loopback port, a load generator in a second process), runs for a fixed duration, prints
  medians and ratios, and exits non-zero when it could not measure.

``python -m bench`` (``make bench``) runs every benchmark in turn and prints a summary;
``python -m bench --list`` lists them; ``python -m bench NAME …`` runs some. Record the results
in BENCHMARKS.md.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Benchmark:
    name: str
    path: Path
    description: str

    @property
    def module(self) -> str:
        return f"bench.{self.name}"


def discover(directory: Path = BENCH_DIR) -> list[Benchmark]:
    """Every benchmark module in ``directory``, by name. Reads docstrings without importing."""
    found = []
    for path in sorted(directory.glob("*.py")):
        if path.stem.startswith("_"):
            continue
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        first_line = docstring.strip().splitlines()[0] if docstring.strip() else "(no description)"
        found.append(Benchmark(path.stem, path, first_line))
    return found
