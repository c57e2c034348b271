"""The integrator: gives committed log entries their positions, extends the Merkle tree and signs
a checkpoint. One is active per deployment.

Election
    PostgreSQL: ``pg_try_advisory_lock`` on the integrator's own connection (a session lock: it
    lasts until that connection ends, so a killed process releases it and another instance's
    next try takes over). SQLite: an exclusive ``flock`` on ``<database file>.integrator`` (one
    machine by nature). Every app process runs an :class:`Integrator` thread; the one that holds
    the lock integrates, the others keep trying every interval.

What is integrated, and in which order
    Entries are the ``audit_events`` and ``data_access_log`` rows that have no ``tlog_leaves``
    row yet. They are never rewritten: the position is only in ``tlog_leaves``. To find them
    without scanning every entry, ``tlog_state`` keeps a horizon per table, below which every
    entry is in the tree, and each batch reads the entries from the horizon up that have no
    leaf yet (an index probe each):

    - PostgreSQL: ids can commit out of order (a transaction that took id 7 may commit after
      the one that took id 8), so the key is not the id but ``tx_id``, the writing
      transaction's id (``pg_current_xact_id()``, a column default). Before reading, the
      integrator takes the ``xmin`` of a fresh snapshot: every transaction with a smaller id
      has ended. An entry not yet visible belongs to a transaction still running then, or one
      that got its id later, so its ``tx_id`` is at least that ``xmin``. Once every visible
      entry from the old horizon up is integrated, ``xmin`` becomes the horizon: nothing below
      it can appear any more. An entry committed late is never skipped; it gets the next free
      position in a later batch.
    - SQLite: one writer at a time, and ids are taken inside the write transaction (the largest
      + 1), so ids commit in order and the horizon is simply the next id.

    A batch that stops at its limit moves the horizon only to the first entry it left out. A
    long-running writing transaction holds the PostgreSQL horizon back while it runs, and the
    batches re-check (by index) the entries written since it began. The
    batch is ordered by (occurred_at, kind, id); the tree's order is integration order, not id
    order, and no settle window is needed.

One batch, one transaction
    Read the tree state (the size, its right edge and the horizons), append the batch's leaf
    hashes (O(log n) each), store the positions (``tlog_leaves``, primary key = position; unique
    entry), the completed subtree hashes of the tile levels (``tlog_nodes``, levels 8, 16 …),
    the new state (updated only if the size is still the one read) and the signed checkpoint,
    then commit. Two integrators that somehow ran at once cannot both commit: the second one's
    positions or state update conflict and it rolls back. A crash before the commit leaves
    everything as it was; the entries wait for the next run. After the commit the checkpoint is
    appended to the export file (``ONSHI_CHECKPOINT_EXPORT``).
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Row,
    Table,
    Text,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import make_url

from onshi.audit.entries import access_entry_bytes, audit_entry_bytes, timestamp
from onshi.audit.keys import LogIdentity
from onshi.audit.merkle import append_leaf, leaf_hash, pack_edge, root_from_edge, unpack_edge
from onshi.audit.models import (
    TILE_LEVELS,
    TREE_STATE_ID,
    AuditEvent,
    DataAccess,
    EntryKind,
    TlogCheckpoint,
    TlogLeaf,
    TlogNode,
    TlogState,
)
from onshi.audit.note import Checkpoint, sign_checkpoint
from onshi.clock import Clock
from onshi.db.bulk import BulkInsert
from onshi.db.engine import make_engine

log = logging.getLogger(__name__)

AUDIT = cast(Table, AuditEvent.__table__)
ACCESS = cast(Table, DataAccess.__table__)
LEAVES = cast(Table, TlogLeaf.__table__)
NODES = cast(Table, TlogNode.__table__)
STATE = cast(Table, TlogState.__table__)
CHECKPOINTS = cast(Table, TlogCheckpoint.__table__)

# pg_try_advisory_lock key: the first 8 bytes of SHA-256("onshi.tlog.integrator"), signed.
ADVISORY_LOCK_KEY = 0x3A6F_1C2B_77D0_4E15
DEFAULT_BATCH = 5000
_LEAF_COLUMNS = ("leaf_index", "entry_kind", "entry_id", "leaf_hash")
_NODE_COLUMNS = ("level", "node_index", "hash")


class IntegrationConflictError(RuntimeError):
    """Another integrator changed the tree during this batch (rolled back; nothing lost)."""


@dataclass(frozen=True)
class BatchResult:
    integrated: int
    tree_size: int
    note: str | None  # the new signed checkpoint, None when nothing was waiting


@dataclass(frozen=True)
class _Table:
    kind: EntryKind
    table: Table
    horizon_column: str


_ENTRY_TABLES = (
    _Table(EntryKind.AUDIT, AUDIT, "audit_horizon"),
    _Table(EntryKind.ACCESS, ACCESS, "access_horizon"),
)


def _key(table: Table, postgresql: bool) -> Any:
    """What the horizon is measured in (see the module text)."""
    return table.c.tx_id if postgresql else table.c.id


def snapshot_xmin(connection: Connection) -> int:
    """PostgreSQL: every transaction with a smaller id has ended (committed or not)."""
    return int(
        connection.execute(
            select(func.pg_snapshot_xmin(func.pg_current_snapshot()).cast(Text).cast(BigInteger))
        ).scalar_one()
    )


def _waiting(
    connection: Connection, entry: _Table, horizon: int, limit: int, postgresql: bool
) -> list[Row[Any]]:
    """The entries from the horizon up that have no position yet, in key order."""
    table, key = entry.table, _key(entry.table, postgresql)
    # A scalar subquery, not NOT EXISTS: PostgreSQL turns NOT EXISTS into an anti-join whose
    # plan, on stale statistics, materialises every leaf for every candidate (quadratic); the
    # subquery is one probe of the unique (entry_kind, entry_id) index per candidate.
    position = (
        select(LEAVES.c.leaf_index)
        .where(LEAVES.c.entry_kind == entry.kind, LEAVES.c.entry_id == table.c.id)
        .scalar_subquery()
    )
    return list(
        connection.execute(
            select(table)
            .where(key >= horizon, position.is_(None))
            .order_by(key, table.c.id)
            .limit(limit)
        )
    )


def _next_horizon(
    rows: Sequence[Row[Any]],
    taken: set[int],
    *,
    old: int,
    limit: int,
    postgresql: bool,
    xmin: int | None,
) -> int:
    """How far every entry of one table is now in the tree (see the module text)."""

    def key(row: Row[Any]) -> int:
        return int(row.tx_id if postgresql else row.id)

    left_out = next((row for row in rows if row.id not in taken), None)
    if left_out is not None:
        bound = key(left_out)
    elif len(rows) >= limit:
        # More may wait beyond the limit; on PostgreSQL rows share a tx_id, so the last key
        # itself may still have waiting rows.
        bound = key(rows[-1]) if postgresql else key(rows[-1]) + 1
    elif postgresql:
        bound = cast(int, xmin)
    else:
        bound = key(rows[-1]) + 1 if rows else old
    if postgresql:
        bound = min(bound, cast(int, xmin))
    return max(old, bound)


def entry_bytes(kind: EntryKind, row: Any) -> bytes:
    return audit_entry_bytes(row) if kind is EntryKind.AUDIT else access_entry_bytes(row)


def integrate_batch(
    connection: Connection, identity: LogIdentity, clock: Clock, *, limit: int = DEFAULT_BATCH
) -> BatchResult:
    """Integrate up to ``limit`` waiting entries in one transaction (see the module text)."""
    postgresql = connection.dialect.name == "postgresql"
    with connection.begin():
        query = select(STATE).where(STATE.c.id == TREE_STATE_ID)
        if postgresql:
            query = query.with_for_update()
        state = connection.execute(query).one_or_none()
        size = 0 if state is None else int(state.tree_size)
        edge = [] if state is None else unpack_edge(state.right_edge, size)
        xmin = snapshot_xmin(connection) if postgresql else None
        horizons = {
            entry.kind: 0 if state is None else int(getattr(state, entry.horizon_column))
            for entry in _ENTRY_TABLES
        }
        waiting = {
            entry.kind: _waiting(connection, entry, horizons[entry.kind], limit, postgresql)
            for entry in _ENTRY_TABLES
        }
        batch = [(kind, row) for kind, rows in waiting.items() for row in rows]
        batch.sort(key=lambda item: (timestamp(item[1].occurred_at), item[0].value, item[1].id))
        batch = batch[:limit]
        taken = {kind: {row.id for k, row in batch if k is kind} for kind in waiting}
        moved_horizons = {
            entry.horizon_column: _next_horizon(
                waiting[entry.kind],
                taken[entry.kind],
                old=horizons[entry.kind],
                limit=limit,
                postgresql=postgresql,
                xmin=xmin,
            )
            for entry in _ENTRY_TABLES
        }
        if not batch:
            # Written only when a horizon moved (other transactions ran), never while idle.
            if state is not None and any(
                moved_horizons[entry.horizon_column] != horizons[entry.kind]
                for entry in _ENTRY_TABLES
            ):
                connection.execute(
                    update(STATE).where(STATE.c.id == TREE_STATE_ID).values(**moved_horizons)
                )
            return BatchResult(0, size, None)
        leaves: list[tuple[int, str, int, bytes]] = []
        nodes: list[tuple[int, int, bytes]] = []
        for offset, (kind, row) in enumerate(batch):
            leaf = leaf_hash(entry_bytes(kind, row))
            position = size + offset
            leaves.append((position, kind.value, row.id, leaf))
            for node in append_leaf(edge, position, leaf):
                if node.level % TILE_LEVELS == 0:
                    nodes.append((node.level, node.index, node.hash))
        new_size = size + len(batch)
        root = root_from_edge(edge)
        now = clock.now()
        BulkInsert(connection, LEAVES, _LEAF_COLUMNS).run(leaves)
        BulkInsert(connection, NODES, _NODE_COLUMNS).run(nodes)
        values = {
            "tree_size": new_size,
            "right_edge": pack_edge(edge),
            "root_hash": root,
            **moved_horizons,
        }
        if state is None:
            connection.execute(insert(STATE).values(id=TREE_STATE_ID, updated_at=now, **values))
        else:
            moved = connection.execute(
                update(STATE)
                .where(STATE.c.id == TREE_STATE_ID, STATE.c.tree_size == size)
                .values(updated_at=now, **values)
            )
            if moved.rowcount != 1:
                raise IntegrationConflictError("the tree changed during the batch")
        note = sign_checkpoint(identity.signer, Checkpoint(identity.origin, new_size, root))
        connection.execute(
            insert(CHECKPOINTS).values(
                tree_size=new_size, root_hash=root, note=note, created_at=now
            )
        )
    return BatchResult(len(batch), new_size, note)


def append_export(path: Path, notes: Sequence[str]) -> None:
    """Append checkpoints to the witness file (each note, then an empty line), durably."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as export:
        for note in notes:
            export.write(note + "\n")
        export.flush()
        os.fsync(export.fileno())


def integrate_pending(
    connection: Connection,
    identity: LogIdentity,
    clock: Clock,
    *,
    export: Path | None = None,
    limit: int = DEFAULT_BATCH,
) -> int:
    """Integrate batches until nothing waits; returns how many entries were integrated."""
    total = 0
    while True:
        result = integrate_batch(connection, identity, clock, limit=limit)
        if result.note is not None and export is not None:
            append_export(export, [result.note])
        total += result.integrated
        if result.integrated < limit:
            return total


class _Election:
    """Holds the deployment's integrator lock (see the module text) on ``connection``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock_file: IO[bytes] | None = None

    def try_acquire(self, connection: Connection) -> bool:
        if self.engine.dialect.name == "postgresql":
            got = bool(
                connection.execute(select(func.pg_try_advisory_lock(ADVISORY_LOCK_KEY))).scalar()
            )
            connection.commit()
            return got
        database = make_url(str(self.engine.url)).database
        if not database or database == ":memory:" or database.startswith("file:"):
            return True
        if self._lock_file is None:
            self._lock_file = open(f"{database}.integrator", "ab")  # noqa: SIM115
        try:
            fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def release(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()  # closing drops the flock
            self._lock_file = None


class Integrator:
    """The integration loop in a daemon thread: elect, then integrate every ``interval``
    seconds (or at once again while full batches wait). Never raises into the app: a failed
    batch is logged, its connection dropped (releasing the lock) and retried later."""

    def __init__(
        self,
        database_url: str,
        identity: LogIdentity,
        clock: Clock,
        *,
        interval: float = 0.2,
        export: Path | None = None,
        limit: int = DEFAULT_BATCH,
    ) -> None:
        extra: dict[str, Any] = {}
        if database_url.startswith("postgresql"):
            extra = {"pool_size": 1, "max_overflow": 0}
        self.engine = make_engine(database_url, **extra)
        self.identity = identity
        self.clock = clock
        self.interval = interval
        self.export = export
        self.limit = limit
        self.leader = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.election = _Election(self.engine)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="tlog-integrator", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.election.release()
        self.engine.dispose()

    def run(self) -> None:
        connection: Connection | None = None
        failures = 0
        while not self._stop.is_set():
            try:
                if connection is None:
                    connection = self.engine.connect()
                if not self.leader.is_set() and self.election.try_acquire(connection):
                    self.leader.set()
                    log.info("tlog integrator: elected")
                if self.leader.is_set():
                    integrate_pending(
                        connection, self.identity, self.clock, export=self.export, limit=self.limit
                    )
                failures = 0
            except Exception:
                failures += 1
                log.exception("tlog integrator: batch failed (%d in a row); retrying", failures)
                self.leader.clear()
                self.election.release()
                if connection is not None:
                    connection.invalidate()
                    connection.close()
                    connection = None
            # Back off while failing (the database down, not migrated): at most every 30 s.
            self._stop.wait(min(30.0, self.interval * 2 ** min(failures, 10)))
        if connection is not None:
            connection.close()
