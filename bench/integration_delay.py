"""Transparency-log integration delay (P8): entry commit → signed checkpoint, p50/p99 under load.

Run: ``.venv/bin/python -m bench.integration_delay [--database postgresql|sqlite]
[--workers N] [--rate R] [--paced-seconds S] [--reuse]``.

Set-up and load are benchmark P1's (:mod:`bench.verification_api`): the same seeded database,
dev PKI, paired readers and ``onshi serve --workers N`` with production settings, whose app
workers run the elected integrator (every 200 ms). The load is card verifications paced at
``--rate`` (open loop, Python generator); each writes 5 consent audit events and one access-log
row, all of them log entries.

What is measured, from the database after the run: for every entry written during the run, the
time from its ``occurred_at`` (set in the request, just before its transaction commits, so this
slightly overstates the delay) to ``created_at`` of the first signed checkpoint whose tree size
covers its position (the integrator's time when it signed, in the transaction that committed
that checkpoint). Reported: p50, p90, p99, max, the number of entries, the checkpoints signed
and their mean size. It fails when an entry is still unintegrated 5 s after the load stopped,
or when an answer was not 200.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from bench._verification_setup import load_setup, prepare
from bench.verification_api import _line, _verified, paced_run, start_server
from onshi.settings import normalise_database_url

GOAL_P99_S = 1.0

_DELAYS = text(
    """
    SELECT e.occurred_at, e.leaf_index,
           (SELECT c.created_at FROM tlog_checkpoints c WHERE c.tree_size > e.leaf_index
            ORDER BY c.tree_size LIMIT 1) AS signed_at
    FROM (SELECT occurred_at, leaf_index FROM audit_events WHERE occurred_at >= :since
          UNION ALL
          SELECT occurred_at, leaf_index FROM data_access_log WHERE occurred_at >= :since) e
    """
)


def _aware(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def measure(database_url: str, since: datetime) -> tuple[list[float], int, int, int]:
    """Delays (s) of integrated entries since ``since``; pending count; checkpoints; entries."""
    engine = create_engine(normalise_database_url(database_url))
    try:
        with engine.connect() as connection:
            rows = connection.execute(_DELAYS, {"since": since}).all()
            checkpoints = connection.execute(
                text("SELECT count(*) FROM tlog_checkpoints WHERE created_at >= :since"),
                {"since": since},
            ).scalar_one()
    finally:
        engine.dispose()
    delays = [
        (_aware(row.signed_at) - _aware(row.occurred_at)).total_seconds()
        for row in rows
        if row.signed_at is not None
    ]
    pending = sum(1 for row in rows if row.signed_at is None)
    return sorted(delays), pending, int(checkpoints), len(rows)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(len(values) * q / 100))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--db-name", default="onshi_bench_p8")
    parser.add_argument("--people", type=int, default=3000)
    parser.add_argument("--cards", type=int, default=300)
    parser.add_argument("--devices", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rate", type=float, default=1000.0, help="verifications per second")
    parser.add_argument("--paced-seconds", type=float, default=15.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--processes", type=int, default=2, help="Python generator processes")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "onshi-bench-p8")
    parser.add_argument("--reuse", action="store_true", help="reuse the previous run's database")
    args = parser.parse_args()
    args.generator = "python"
    if args.paced_seconds > 40:
        print("runs are limited to 40 s: challenges live 120 s, JWS iat ±60 s")
        return 2
    setup = (load_setup if args.reuse else prepare)(
        args.dir,
        database=args.database,
        postgres_url=args.postgres_url,
        db_name=args.db_name,
        people=args.people,
        cards=args.cards,
        devices=args.devices,
    )
    server = start_server(setup, args.dir, args.workers)
    print(
        f"server: onshi serve --workers {args.workers} ({args.database}); {os.cpu_count()} CPUs; "
        f"load average before {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    problems: list[str] = []
    try:
        with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            since = datetime.now(UTC)
            load = paced_run(args, setup, server.port, pool, args.rate)
            print(_line(f"verifications paced at {args.rate:,.0f}/s", load), flush=True)
            problems += _verified(load, exact=True, slack=0)
            if load.saturated:
                print("  (the server fell behind the asked rate: the load is its maximum)")
            deadline = time.monotonic() + 5.0
            while True:
                delays, pending, checkpoints, entries = measure(setup.database_url, since)
                if not pending or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
    finally:
        server.stop()
    print(f"load average after {os.getloadavg()[0]:.2f} (other processes share these CPUs)")
    if pending:
        problems.append(f"{pending} entries were not in a signed checkpoint 5 s after the load")
    if not delays:
        problems.append("no entry was written during the run")
    else:
        p99 = _percentile(delays, 99)
        print(
            f"\nintegration delay over {entries:,} entries ({load.rate:,.0f} verifications/s, "
            f"{entries / args.paced_seconds:,.0f} entries/s), {checkpoints:,} checkpoints "
            f"(mean {entries / max(checkpoints, 1):,.1f} entries each): "
            f"p50 {_percentile(delays, 50) * 1000:.0f} ms, "
            f"p90 {_percentile(delays, 90) * 1000:.0f} ms, "
            f"p99 {p99 * 1000:.0f} ms, max {delays[-1] * 1000:.0f} ms; "
            f"goal p99 ≤ {GOAL_P99_S:.0f} s: {'met' if p99 <= GOAL_P99_S else 'NOT met'}"
        )
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
