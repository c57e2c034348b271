"""Run the benchmarks: ``python -m bench [--list] [NAME ...]``."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Sequence

from bench import BENCH_DIR, Benchmark, discover


def _run(benchmark: Benchmark) -> tuple[int, float]:
    print(f"\n=== {benchmark.name}: {benchmark.description}", flush=True)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", benchmark.module],
        cwd=BENCH_DIR.parent,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    return result.returncode, time.monotonic() - started


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)

    available = discover()
    by_name = {benchmark.name: benchmark for benchmark in available}
    if args.list:
        if not available:
            print("no benchmarks yet (add bench/<name>.py; see bench/__init__.py)")
        for benchmark in available:
            print(f"{benchmark.name:<28} {benchmark.description}")
        return 0

    unknown = [name for name in args.names if name not in by_name]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}", file=sys.stderr)
        print(f"available: {', '.join(by_name) or '(none)'}", file=sys.stderr)
        return 2
    selected = [by_name[name] for name in args.names] if args.names else available
    if not selected:
        print("no benchmarks to run (add bench/<name>.py; see bench/__init__.py)", file=sys.stderr)
        return 1

    outcomes = [(benchmark, *_run(benchmark)) for benchmark in selected]
    print("\n=== summary")
    for benchmark, code, seconds in outcomes:
        status = "ok" if code == 0 else f"FAILED (exit {code})"
        print(f"{benchmark.name:<28} {seconds:7.1f}s  {status}")
    return 0 if all(code == 0 for _b, code, _s in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
