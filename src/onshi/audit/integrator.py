"""The integrator: gives committed log entries their positions, extends the Merkle tree and signs
a checkpoint. One is active per deployment.

Election
    PostgreSQL: ``pg_try_advisory_lock`` on the integrator's own connection (a session lock: it
    lasts until that connection ends, so a killed process releases it and another instance's
    next try takes over). SQLite: an exclusive ``flock`` on ``<database file>.integrator`` (one
    machine by nature). Every app process runs an :class:`Integrator` thread; the one that holds
    the lock integrates, the others keep trying every interval.

What is integrated, and in which order
    Entries are the ``audit_events`` and ``data_access_log`` rows whose ``leaf_index`` is NULL,
    read through a partial index. The batch is ordered by (occurred_at, kind, id). PostgreSQL
    ids can commit out of order (a transaction that took id 7 may commit after the one that
    took id 8): since the integrator looks for *every* row still without a position, rather than
    for ids above a high-water mark, an entry committed late is never skipped; it gets the next
    free position in a later batch. The tree's order is therefore integration order, not id
    order, and no settle window is needed.

One batch, one transaction
    Read the tree state (the size and its right edge), append the batch's leaf hashes (O(log n)
    each), store the positions (``tlog_leaves``, primary key = position; unique entry), the
    completed subtree hashes (``tlog_nodes``), the entries' ``leaf_index``, the new state
    (updated only if the size is still the one read) and the signed checkpoint, then commit.
    Two integrators that somehow ran at once cannot both commit: the second one's positions or
    state update conflict and it rolls back. A crash before the commit leaves everything as it
    was; the entries wait for the next run. After the commit the checkpoint is appended to the
    export file (``ONSHI_CHECKPOINT_EXPORT``).
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

from sqlalchemy import Connection, Engine, Row, Table, bindparam, func, insert, select, update
from sqlalchemy.engine import make_url

from onshi.audit.entries import access_entry_bytes, audit_entry_bytes, timestamp
from onshi.audit.keys import LogIdentity
from onshi.audit.merkle import append_leaf, leaf_hash, pack_edge, root_from_edge, unpack_edge
from onshi.audit.models import (
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


class IntegrationConflictError(RuntimeError):
    """Another integrator changed the tree during this batch (rolled back; nothing lost)."""


@dataclass(frozen=True)
class BatchResult:
    integrated: int
    tree_size: int
    note: str | None  # the new signed checkpoint, None when nothing was waiting


def _pending(connection: Connection, limit: int) -> list[tuple[EntryKind, Row[Any]]]:
    audits = connection.execute(
        select(AUDIT).where(AUDIT.c.leaf_index.is_(None)).order_by(AUDIT.c.id).limit(limit)
    ).all()
    accesses = connection.execute(
        select(ACCESS).where(ACCESS.c.leaf_index.is_(None)).order_by(ACCESS.c.id).limit(limit)
    ).all()
    batch = [(EntryKind.AUDIT, row) for row in audits] + [
        (EntryKind.ACCESS, row) for row in accesses
    ]
    batch.sort(key=lambda item: (timestamp(item[1].occurred_at), item[0].value, item[1].id))
    return batch[:limit]


def entry_bytes(kind: EntryKind, row: Any) -> bytes:
    return audit_entry_bytes(row) if kind is EntryKind.AUDIT else access_entry_bytes(row)


def integrate_batch(
    connection: Connection, identity: LogIdentity, clock: Clock, *, limit: int = DEFAULT_BATCH
) -> BatchResult:
    """Integrate up to ``limit`` waiting entries in one transaction (see the module text)."""
    with connection.begin():
        query = select(STATE).where(STATE.c.id == TREE_STATE_ID)
        if connection.dialect.name == "postgresql":
            query = query.with_for_update()
        state = connection.execute(query).one_or_none()
        size = 0 if state is None else int(state.tree_size)
        edge = [] if state is None else unpack_edge(state.right_edge, size)
        batch = _pending(connection, limit)
        if not batch:
            return BatchResult(0, size, None)
        leaves, nodes = [], []
        for offset, (kind, row) in enumerate(batch):
            leaf = leaf_hash(entry_bytes(kind, row))
            position = size + offset
            leaves.append(
                {"leaf_index": position, "entry_kind": kind, "entry_id": row.id, "leaf_hash": leaf}
            )
            for node in append_leaf(edge, position, leaf):
                nodes.append({"level": node.level, "node_index": node.index, "hash": node.hash})
        new_size = size + len(batch)
        root = root_from_edge(edge)
        now = clock.now()
        connection.execute(insert(LEAVES), leaves)
        if nodes:
            connection.execute(insert(NODES), nodes)
        for kind, table in ((EntryKind.AUDIT, AUDIT), (EntryKind.ACCESS, ACCESS)):
            ids = [row.id for k, row in batch if k is kind]
            if ids:
                _set_positions(connection, table, kind, ids)
        values = {"tree_size": new_size, "right_edge": pack_edge(edge), "root_hash": root}
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


def _set_positions(connection: Connection, table: Table, kind: EntryKind, ids: list[int]) -> None:
    position = (
        select(LEAVES.c.leaf_index)
        .where(LEAVES.c.entry_kind == kind, LEAVES.c.entry_id == table.c.id)
        .scalar_subquery()
    )
    changed = connection.execute(
        update(table)
        .where(table.c.id.in_(bindparam("ids", expanding=True)), table.c.leaf_index.is_(None))
        .values(leaf_index=position),
        {"ids": ids},
    )
    if changed.rowcount != len(ids):
        raise IntegrationConflictError("an entry was integrated by another integrator")


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
