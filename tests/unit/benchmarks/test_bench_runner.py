"""``python -m bench``: discovers bench/<name>.py modules and runs each in its own process."""

from __future__ import annotations

from pathlib import Path

from bench import discover


def test_discovers_modules_with_their_first_docstring_line(tmp_path: Path) -> None:
    (tmp_path / "__init__.py").write_text('"""package"""\n')
    (tmp_path / "__main__.py").write_text('"""runner"""\n')
    (tmp_path / "_shared.py").write_text('"""helpers"""\n')
    (tmp_path / "lookup.py").write_text('"""Qualification lookups per second.\n\nMore."""\n')
    (tmp_path / "audit.py").write_text("x = 1\n")
    found = discover(tmp_path)
    assert [(b.name, b.description, b.module) for b in found] == [
        ("audit", "(no description)", "bench.audit"),
        ("lookup", "Qualification lookups per second.", "bench.lookup"),
    ]


def test_the_project_benchmarks_all_have_descriptions() -> None:
    for benchmark in discover():
        assert benchmark.description != "(no description)", benchmark.path
