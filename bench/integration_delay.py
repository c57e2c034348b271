"""Transparency-log integration delay (P8): entry commit → signed checkpoint, p50/p99 under load.

Run: ``.venv/bin/python -m bench.integration_delay [--database postgresql|sqlite]
[--workers N] [--rate R] [--paced-seconds S] [--reuse]``.

Set-up and load are benchmark P1's (:mod:`bench.verification_api`): the same seeded database,
dev PKI, paired readers and ``onshi serve --workers N`` with production settings, whose app
workers run the elected integrator (every 200 ms). The load is card verifications paced at
``--rate`` (open loop, Python generator); each writes 5 consent audit events and one access-log
row, all of them log entries.

What is measured, from the database after the run, against ``created_at`` of the first signed
checkpoint whose tree size covers an entry's position (the integrator's time when it signed, in
the transaction that committed that checkpoint):

- probes (the P8 figure): while the load runs, a thread writes one audit entry every 50 ms
  through ``record_audit`` in its own transaction and notes the time its COMMIT returned; delay =
  checkpoint time − commit time, exactly "entry commit → signed checkpoint";
- every entry of the load (upper bound): from its ``occurred_at``, set inside the request
  before the rest of the request's work and its commit, so under heavy load this includes the
  request's own latency.

Reported: p50, p90, p99, max, entries, checkpoints signed and their mean size. It fails when an
entry is still unintegrated 5 s after the load stopped, or when an answer was not 200.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import bindparam, create_engine, text

from bench._verification_setup import Setup, load_setup, prepare
from bench.verification_api import Measured, _line, _verified, paced_run, start_server
from onshi.settings import normalise_database_url

GOAL_P99_S = 1.0
PROBE_SECONDS = 0.05


class Writer:
    """Extra load straight into the database: ``rate`` entries/s as transactions of 6 audit
    entries (what one card verification writes: 5 consents' events and an access-log row), to
    load the integrator as P1's target would (2,000 verifications/s = 12,000 entries/s) even
    when the HTTP path on this machine cannot."""

    def __init__(self, database_url: str, rate: float) -> None:
        from onshi.db.engine import make_engine, make_session_factory

        self.engine = make_engine(normalise_database_url(database_url))
        self.sessions = make_session_factory(self.engine)
        self.rate = rate
        self.written = 0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(4)]

    def _run(self) -> None:
        from onshi.audit.services import AuditEntry, record_audits
        from onshi.clock import SystemClock

        clock = SystemClock()
        gap = 6 * len(self._threads) / self.rate
        due = time.monotonic()
        while not self._stop.is_set():
            due += gap
            with self.sessions() as db:
                record_audits(
                    db,
                    clock,
                    [AuditEntry("system", None, "bench.load", "load", n) for n in range(6)],
                )
                db.commit()
            self.written += 6
            pause = due - time.monotonic()
            if pause > 0:
                self._stop.wait(pause)

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            if thread.is_alive():  # not started without --direct-entries
                thread.join(timeout=10)
        self.engine.dispose()


class Probes:
    """Audit entries committed at a steady pace during the load, with their commit times."""

    def __init__(self, database_url: str) -> None:
        from onshi.db.engine import make_engine, make_session_factory

        self.engine = make_engine(normalise_database_url(database_url))
        self.sessions = make_session_factory(self.engine)
        self.committed: dict[int, datetime] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from onshi.audit.services import record_audit
        from onshi.clock import SystemClock

        clock = SystemClock()
        n = 0
        while not self._stop.wait(PROBE_SECONDS):
            with self.sessions() as db:
                event = record_audit(
                    db,
                    clock,
                    actor_kind="system",
                    actor_id=None,
                    action="bench.probe",
                    object_type="probe",
                    object_id=n,
                )
                db.commit()
                self.committed[event.id] = datetime.now(UTC)
            n += 1

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def delays(self) -> tuple[list[float], int]:
        query = text(
            "SELECT e.id, (SELECT c.created_at FROM tlog_checkpoints c "
            "WHERE c.tree_size > l.leaf_index ORDER BY c.tree_size LIMIT 1) AS signed_at "
            "FROM audit_events e LEFT JOIN tlog_leaves l ON l.entry_kind = 'audit' "
            "AND l.entry_id = e.id WHERE e.action = 'bench.probe' AND e.id IN :ids"
        ).bindparams(bindparam("ids", expanding=True))
        with self.engine.connect() as connection:
            rows = connection.execute(query, {"ids": list(self.committed)}).all()
        self.engine.dispose()
        delays = [
            (_aware(row.signed_at) - self.committed[row.id]).total_seconds()
            for row in rows
            if row.signed_at is not None
        ]
        return sorted(delays), len(self.committed) - len(delays)


_DELAYS = text(
    """
    SELECT e.occurred_at, l.leaf_index,
           (SELECT c.created_at FROM tlog_checkpoints c WHERE c.tree_size > l.leaf_index
            ORDER BY c.tree_size LIMIT 1) AS signed_at
    FROM (SELECT 'audit' AS kind, id, occurred_at FROM audit_events WHERE occurred_at >= :since
          UNION ALL
          SELECT 'access', id, occurred_at FROM data_access_log WHERE occurred_at >= :since) e
    LEFT JOIN tlog_leaves l ON l.entry_kind = e.kind AND l.entry_id = e.id
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


def _figures(delays: list[float]) -> str:
    p99 = _percentile(delays, 99)
    return (
        f"p50 {_percentile(delays, 50) * 1000:.0f} ms, "
        f"p90 {_percentile(delays, 90) * 1000:.0f} ms, "
        f"p99 {p99 * 1000:.0f} ms, max {delays[-1] * 1000:.0f} ms; "
        f"goal p99 ≤ {GOAL_P99_S:.0f} s: {'met' if p99 <= GOAL_P99_S else 'NOT met'}"
    )


def report(
    probes: Probes,
    measured: tuple[list[float], int, int, int],
    rate: float,
    args: argparse.Namespace,
) -> list[str]:
    delays, pending, checkpoints, entries = measured
    problems = []
    probe_delays, probes_pending = probes.delays()
    if pending or probes_pending:
        problems.append(
            f"{pending + probes_pending} entries were not in a signed checkpoint 5 s after the load"
        )
    if probe_delays:
        print(
            f"\nP8 commit → signed checkpoint, {len(probe_delays)} probe entries (one committed "
            f"every {PROBE_SECONDS * 1000:.0f} ms during the load): {_figures(probe_delays)}"
        )
    if not delays:
        problems.append("no entry was written during the run")
    else:
        print(
            f"all {entries:,} entries of the run, load and probes ({rate:,.0f} verifications/s, "
            f"{entries / args.elapsed:,.0f} entries/s over {args.elapsed:.0f} s; "
            f"{checkpoints:,} checkpoints, "
            f"mean {entries / max(checkpoints, 1):,.1f} entries each), from occurred_at "
            f"(upper bound): {_figures(delays)}"
        )
    return problems


def loaded_run(
    args: argparse.Namespace, setup: Setup, port: int, pool: ProcessPoolExecutor
) -> tuple[Measured, Probes]:
    """The paced verifications, with the probes (and the direct writer) running meanwhile."""
    probes = Probes(setup.database_url)
    writer = Writer(setup.database_url, args.direct_entries or 1.0)
    probes.start()
    if args.direct_entries:
        writer.start()
    started = time.monotonic()
    try:
        load = paced_run(args, setup, port, pool, args.rate)
    finally:
        writer.stop()
        probes.stop()
    args.elapsed = time.monotonic() - started
    if args.direct_entries:
        print(
            f"direct writer: {writer.written:,} entries in {args.elapsed:.1f} s "
            f"({writer.written / args.elapsed:,.0f}/s; asked {args.direct_entries:,.0f}/s)",
            flush=True,
        )
    return load, probes


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
    parser.add_argument(
        "--direct-entries",
        type=float,
        default=0.0,
        help="extra entries/s written straight to the database during the load (see Writer)",
    )
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
            load, probes = loaded_run(args, setup, server.port, pool)
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
    problems += report(probes, (delays, pending, checkpoints, entries), load.rate, args)
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
