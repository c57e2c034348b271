"""What integrating one transparency-log entry costs: CPU of the integrating process and of its
PostgreSQL backend per entry (BENCHMARKS.md, "Transparency-log integrator cost").

Writes ``--entries`` audit entries in transactions of ``--per-transaction`` (6: what one card
verification writes), then integrates them in batches of ``--batch`` (120: what the 200 ms
interval gathers at ~100 verifications/s) and prints wall time and CPU per entry. CPU time, not
the rate, is the comparable figure on a shared machine.

    .venv/bin/python -m bench.integrator_cost --database-url postgresql://postgres@127.0.0.1:5432/onshi_integrator_bench
    .venv/bin/python -m bench.integrator_cost --database-url sqlite:////tmp/onshi-integrator-bench.sqlite3
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from onshi.audit.integrator import integrate_pending
from onshi.audit.keys import LogIdentity
from onshi.audit.note import Signer
from onshi.audit.services import AuditEntry, record_audits
from onshi.clock import FrozenClock
from onshi.db.engine import make_engine
from onshi.db.migrate import upgrade

_TICKS = float(os.sysconf("SC_CLK_TCK"))


def _fresh_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm", ".integrator"):
            Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
        return
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = parsed.database
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def _backend_cpu(connection: Connection) -> float:
    """CPU seconds of this connection's PostgreSQL backend (0 on SQLite)."""
    if connection.dialect.name != "postgresql":
        return 0.0
    pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    connection.commit()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="recreated by the benchmark")
    parser.add_argument("--entries", type=int, default=12_000)
    parser.add_argument("--per-transaction", type=int, default=6)
    parser.add_argument("--batch", type=int, default=120)
    args = parser.parse_args()

    _fresh_database(args.database_url)
    upgrade(args.database_url)
    engine = make_engine(args.database_url)
    clock = FrozenClock()
    with Session(engine) as session:
        for first in range(0, args.entries, args.per_transaction):
            record_audits(
                session,
                clock,
                [
                    AuditEntry(
                        "device",
                        3,
                        "consent.registered",
                        "consent",
                        n,
                        person_id=42,
                        institution_id=7,
                        details={"kind": "drug", "value": "given", "verification_event_id": n},
                    )
                    for n in range(first, min(first + args.per_transaction, args.entries))
                ],
            )
            session.commit()
    identity = LogIdentity(origin="bench.onshi.test/log", signer=Signer.generate("bench/log"))
    with engine.connect() as connection:
        database_before = _backend_cpu(connection)
        own_before, started = _own_cpu(), time.perf_counter()
        integrated = integrate_pending(connection, identity, clock, limit=args.batch)
        wall = time.perf_counter() - started
        own = _own_cpu() - own_before
        database = _backend_cpu(connection) - database_before
    engine.dispose()
    print(
        f"{engine.dialect.name}: {integrated:,} entries integrated in batches of {args.batch} in"
        f" {wall:.2f} s ({integrated / wall:,.0f}/s); CPU per entry: integrator"
        f" {own * 1e6 / integrated:.0f} us + database {database * 1e6 / integrated:.0f} us;"
        f" load average {os.getloadavg()[0]:.2f}"
    )
    return 0 if integrated == args.entries else 1


if __name__ == "__main__":
    raise SystemExit(main())
