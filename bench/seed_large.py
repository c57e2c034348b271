"""Time ``onshi seed --size large`` on a fresh SQLite file: wall time, rows per table, file size.

Run: ``.venv/bin/python bench/seed_large.py [--people N] [--dir DIR]`` (default 1,000,000 people,
all ~229k institutions). Results go in BENCHMARKS.md by hand.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=None)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    directory = args.dir or Path(tempfile.mkdtemp(prefix="onshi-seed-large-"))
    directory.mkdir(parents=True, exist_ok=True)
    database = directory / "onshi.sqlite3"
    env = {**os.environ, "ONSHI_DATA_DIR": str(directory), "ONSHI_ENV": "development"}
    env["ONSHI_DATABASE_URL"] = f"sqlite:///{database}"
    onshi = [str(Path(sys.executable).parent / "onshi")]
    subprocess.run([*onshi, "migrate"], env=env, check=True)
    command = [*onshi, "seed", "--size", "large"]
    if args.people:
        command += ["--people", str(args.people)]
    started = time.monotonic()
    subprocess.run(command, env=env, check=True)
    elapsed = time.monotonic() - started
    size = sum(p.stat().st_size for p in directory.glob("onshi.sqlite3*"))
    print(f"wall time {elapsed:,.1f} s; database {size / 2**20:,.0f} MiB at {database}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
