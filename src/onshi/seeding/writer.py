"""Batched Core inserts with bounded memory: rows are buffered per table and written with
``insert()`` executemany (psycopg 3 pipelines it; SQLite uses one prepared statement)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from sqlalchemy import Connection, MetaData, Table, insert, text

Row = dict[str, object]

# Parents before children so foreign keys hold at every flush.
TABLE_ORDER = (
    "insurers",
    "institutions",
    "persons",
    "simulated_resident_registry",
    "qualifications",
    "member_links",
    "limit_certifications",
    "specific_disease_certificates",
    "drug_records",
    "health_check_records",
    "clinical_records",
    "medical_expense_records",
    "verification_events",
    "consents",
)


class BatchWriter:
    def __init__(
        self,
        connection: Connection,
        metadata: MetaData,
        batch_size: int = 5000,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.connection = connection
        self.tables: dict[str, Table] = {name: metadata.tables[name] for name in TABLE_ORDER}
        self.columns = {name: {c.name for c in t.columns} for name, t in self.tables.items()}
        self.buffers: dict[str, list[Row]] = {name: [] for name in TABLE_ORDER}
        self.counts: dict[str, int] = dict.fromkeys(TABLE_ORDER, 0)
        self.batch_size = batch_size
        self.progress = progress
        self.started = time.monotonic()
        self.last_report = self.started
        self.pending = 0

    def add(self, table: str, rows: Iterable[Row]) -> None:
        keep = self.columns[table]
        buffer = self.buffers[table]
        for row in rows:
            buffer.append({k: v for k, v in row.items() if k in keep})
            self.pending += 1
        if self.pending >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        for name in TABLE_ORDER:
            buffer = self.buffers[name]
            if buffer:
                self.connection.execute(insert(self.tables[name]), buffer)
                self.counts[name] += len(buffer)
                self.buffers[name] = []
        self.pending = 0
        now = time.monotonic()
        if self.progress is not None and now - self.last_report >= 5:
            self.last_report = now
            self.progress(self.report())

    def report(self) -> str:
        total = sum(self.counts.values())
        elapsed = max(time.monotonic() - self.started, 1e-6)
        return (
            f"  {total:,} rows in {elapsed:,.0f} s ({total / elapsed:,.0f} rows/s); "
            f"persons {self.counts['persons']:,}, qualifications {self.counts['qualifications']:,}"
        )

    def finish(self) -> None:
        self.flush()
        if self.connection.dialect.name == "postgresql":
            for name in TABLE_ORDER:
                # Ids were given explicitly: move each sequence past them.
                self.connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608
                        f"COALESCE((SELECT max(id) FROM {name}), 0) + 1, false)"
                    )
                )
