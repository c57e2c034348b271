"""Where one worker's time goes under P1 load: py-spy samples of ``onshi serve --workers 1``.

Run: ``.venv/bin/python -m bench.profile_p1 [--database postgresql|sqlite] [--seconds 10]
[--connections 8] [--reuse]`` (needs ``py-spy``: ``pip install py-spy``; the set-up is P1's,
:mod:`bench.verification_api`). The server answers pre-signed verifications from the Python
load generator (closed loop) while py-spy samples its worker (``--nonblocking``, 200 Hz,
only threads that run Python code: waits on the database or the GIL are not counted). Prints
the functions with the most samples, inclusive and own, as shares of all samples, and keeps
the raw samples in ``<dir>/profile.txt``.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench._loadgen import run_processes
from bench._verification_setup import load_setup, prepare
from bench.verification_api import (
    from_result,
    prepare_submissions,
    python_jobs,
    start_server,
)


def _times(pid: int) -> tuple[float, float, int]:
    """(user s, system s, voluntary + involuntary context switches) of ``pid``'s threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    switches = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
            switches += int(line.split()[1])
    for task in Path(f"/proc/{pid}/task").iterdir():
        if task.name == str(pid):
            continue
        for line in (task / "status").read_text().splitlines():
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                switches += int(line.split()[1])
    return int(fields[11]) / ticks, int(fields[12]) / ticks, switches


def _frame(name: str) -> str:
    function, _, where = name.partition(" (")
    return f"{function} ({where.split(':')[0]}" if where else name


def summarise(raw: Path, top: int) -> str:
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        samples = int(count)
        frames = stack.split(";")
        total += samples
        for frame in {_frame(f) for f in frames}:
            inclusive[frame] += samples
        own[frames[-1]] += samples
    lines = [f"{total} samples"]
    lines += [f"{n * 100 / total:5.1f}% {name}" for name, n in inclusive.most_common(top)]
    lines.append("--- own time")
    lines += [f"{n * 100 / total:5.1f}% {name}" for name, n in own.most_common(top // 2)]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--db-name", default="onshi_bench")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--count", type=int, default=4000, help="submissions prepared")
    parser.add_argument("--top", type=int, default=60)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "onshi-prof-p1")
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument(
        "--gil", action="store_true", help="sample only the thread holding the GIL (CPU in Python)"
    )
    args = parser.parse_args()
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        print("py-spy is not installed (pip install py-spy)")
        return 1
    setup = (load_setup if args.reuse else prepare)(
        args.dir,
        database=args.database,
        postgres_url=args.postgres_url,
        db_name=args.db_name,
        people=3000,
        cards=300,
        devices=8,
    )
    server = start_server(setup, args.dir, 1)
    raw = args.dir / "profile.txt"
    try:
        with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            prepared = prepare_submissions(setup, server.port, args.count, pool)
        jobs = python_jobs(
            setup,
            server.port,
            prepared.items,
            processes=1,
            seconds=args.seconds,
            rate=None,
            connections=args.connections,
        )
        # the worker is the server process itself with one worker (no supervisor)
        recorder = subprocess.Popen(
            [spy, "record", "-p", str(server.process.pid), "-d", str(int(args.seconds)), "-r",
             "200", "--nonblocking", "--format", "raw", "-o", str(raw),
             *(["--gil"] if args.gil else [])],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(0.5)
        before = _times(server.process.pid)
        measured = from_result(run_processes(jobs))
        after = _times(server.process.pid)
        recorder.wait(timeout=args.seconds + 60)
    finally:
        server.stop()
    print(
        f"{measured.rate:,.0f} verifications/s, {measured.ok}/{measured.count} ok, "
        f"p50 {measured.p50_ms:.1f} ms; load average {os.getloadavg()[0]:.2f}; worker CPU per "
        f"verification: user {(after[0] - before[0]) * 1000 / max(1, measured.ok):.2f} ms, "
        f"system {(after[1] - before[1]) * 1000 / max(1, measured.ok):.2f} ms, "
        f"context switches {(after[2] - before[2]) / max(1, measured.ok):.1f}"
    )
    print(summarise(raw, args.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
