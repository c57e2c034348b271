"""CPU time of the benchmark server's workers and of its PostgreSQL backends (from /proc):
what one verification costs whatever else shares the machine (BENCHMARKS.md, P1)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from onshi.db.engine import make_engine

_TICKS: float = float(os.sysconf("SC_CLK_TCK"))


def _process_cpu(pid: int) -> float:
    """User + system CPU seconds of ``pid`` (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


def _backends(database_url: str) -> list[int]:
    """PostgreSQL backend pids connected to the benchmark database (none on SQLite)."""
    if not database_url.startswith("postgresql"):
        return []
    from sqlalchemy import text as sql_text

    engine = make_engine(database_url)
    with engine.connect() as conn:
        pids = conn.execute(
            sql_text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
        ).scalars()
        found = [int(pid) for pid in pids]
    engine.dispose()
    return found


@dataclass
class CpuMeter:
    """CPU seconds spent by the server's workers and by its PostgreSQL backends during a run
    (load-independent: what one verification costs, whatever else shares the machine)."""

    server_pid: int
    database_url: str
    start_app: float = 0.0
    start_db: dict[int, float] | None = None
    workers: list[int] | None = None

    def start(self) -> None:
        self.workers = children(self.server_pid) or [self.server_pid]
        self.start_app = sum(_process_cpu(pid) for pid in self.workers)
        self.start_db = {pid: _process_cpu(pid) for pid in _backends(self.database_url)}

    def stop(self) -> tuple[float, float]:
        """(app CPU s, database CPU s) since :meth:`start`."""
        app = sum(_process_cpu(pid) for pid in self.workers or []) - self.start_app
        before = self.start_db or {}
        database = sum(
            _process_cpu(pid) - before.get(pid, 0.0) for pid in _backends(self.database_url)
        )
        return app, database
