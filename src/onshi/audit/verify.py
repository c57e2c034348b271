"""``onshi audit verify``: recompute the whole tree from the stored entries and compare it with
signed checkpoints (the stored ones, or ones kept elsewhere, such as a witness's copy of the
export file).

Read in one snapshot (REPEATABLE READ on PostgreSQL; one read transaction on SQLite), so an
integration running meanwhile is not reported. What is checked:

- every checkpoint's signature by the log's key and its origin (``bad_checkpoint``);
- the positions (``tlog_leaves``) are exactly 0 … n-1 and each names an entry that still
  exists (``missing``; the table's keys make a position or an entry appear once at most);
- each entry's leaf hash, recomputed from its row, equals the stored leaf (``altered``);
- no entry below the integration horizon is outside the tree (``left_out``);
- after the first s entries, the recomputed root equals every checkpoint of size s
  (``root_mismatch``: an entry edited, deleted, reordered or the log rewritten);
- no checkpoint is larger than the log (``truncated``);
- the stored tree state equals the recomputed tree (``state_mismatch``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select

from onshi.audit.integrator import ACCESS, AUDIT, CHECKPOINTS, LEAVES, STATE, entry_bytes
from onshi.audit.keys import LogIdentity
from onshi.audit.merkle import append_leaf, leaf_hash, root_from_edge
from onshi.audit.models import TREE_STATE_ID, EntryKind
from onshi.audit.note import NoteError, open_checkpoint

_BATCH = 2000


@dataclass(frozen=True)
class Problem:
    kind: str
    position: int | None
    detail: str

    def __str__(self) -> str:
        where = "" if self.position is None else f" at {self.position}"
        return f"{self.kind}{where}: {self.detail}"


@dataclass
class VerifyReport:
    entries: int = 0
    checkpoints: int = 0
    largest_checkpoint: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _positions(connection: Connection) -> Iterator[tuple[Any, Any]]:
    """Every stored leaf in position order, with the entry row it names (None if that row is
    gone), read in chunks."""
    leaves = connection.execution_options(yield_per=_BATCH).execute(
        select(LEAVES).order_by(LEAVES.c.leaf_index)
    )
    for chunk in leaves.partitions():
        rows: dict[tuple[str, int], Any] = {}
        for kind, table in ((EntryKind.AUDIT, AUDIT), (EntryKind.ACCESS, ACCESS)):
            ids = [int(leaf.entry_id) for leaf in chunk if leaf.entry_kind == kind]
            if ids:
                for row in connection.execute(select(table).where(table.c.id.in_(ids))):
                    rows[(kind.value, int(row.id))] = row
        for leaf in chunk:
            yield leaf, rows.get((str(leaf.entry_kind), int(leaf.entry_id)))


def _left_out(connection: Connection, state: Any) -> int:
    """Entries below the integration horizon that are not in the tree: the integrator will
    never take them (written with a key it had already passed)."""
    postgresql = connection.dialect.name == "postgresql"
    count = 0
    for kind, table, horizon in (
        (EntryKind.AUDIT, AUDIT, 0 if state is None else int(state.audit_horizon)),
        (EntryKind.ACCESS, ACCESS, 0 if state is None else int(state.access_horizon)),
    ):
        passed = (
            table.c.tx_id.is_(None) | (table.c.tx_id < horizon)
            if postgresql
            else (table.c.id < horizon)
        )
        integrated = (
            select(LEAVES.c.leaf_index)
            .where(LEAVES.c.entry_kind == kind, LEAVES.c.entry_id == table.c.id)
            .exists()
        )
        count += int(
            connection.execute(
                select(func.count()).select_from(table).where(passed, ~integrated)
            ).scalar_one()
        )
    return count


def stored_notes(connection: Connection) -> list[str]:
    return [str(n) for n in connection.execute(select(CHECKPOINTS.c.note)).scalars()]


def verify_log(
    connection: Connection, identity: LogIdentity, notes: Sequence[str] | None = None
) -> VerifyReport:
    """Check the log against ``notes`` (signed checkpoints; default: the stored ones)."""
    if connection.dialect.name == "postgresql":
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
    with connection.begin():
        return _verify(connection, identity, notes)


def _verify(
    connection: Connection, identity: LogIdentity, notes: Sequence[str] | None
) -> VerifyReport:
    report = VerifyReport()
    expected: dict[int, set[bytes]] = {}
    for note in stored_notes(connection) if notes is None else notes:
        try:
            checkpoint = open_checkpoint(note, identity.verifier, identity.origin)
        except NoteError as exc:
            report.problems.append(Problem("bad_checkpoint", None, str(exc)))
            continue
        report.checkpoints += 1
        report.largest_checkpoint = max(report.largest_checkpoint, checkpoint.size)
        expected.setdefault(checkpoint.size, set()).add(checkpoint.root_hash)
    if notes is None:
        for row in connection.execute(select(CHECKPOINTS)):
            if f"\n{row.tree_size}\n" not in f"\n{row.note}":
                report.problems.append(
                    Problem("bad_checkpoint", None, f"row {row.id}: size differs from its note")
                )
    for size, roots in expected.items():
        if len(roots) > 1:
            report.problems.append(
                Problem("root_mismatch", size, "two checkpoints sign different roots")
            )
    edge: list[bytes] = []
    size = 0
    for stored, row in _positions(connection):
        position = int(stored.leaf_index)
        if position > size:
            report.problems.append(
                Problem("missing", size, f"{position - size} entry position(s) empty")
            )
        kind = EntryKind(stored.entry_kind)
        if row is None:
            report.problems.append(
                Problem("missing", position, f"{kind.value} entry {stored.entry_id} is gone")
            )
            leaf = bytes(stored.leaf_hash)
        else:
            leaf = leaf_hash(entry_bytes(kind, row))
            if leaf != bytes(stored.leaf_hash):
                report.problems.append(
                    Problem(
                        "altered", position, f"{kind.value} entry {row.id} differs from its leaf"
                    )
                )
        append_leaf(edge, size, leaf)
        size += 1
        for root in expected.get(size, ()):
            if root != root_from_edge(edge):
                report.problems.append(
                    Problem("root_mismatch", size, "the recomputed tree differs from a checkpoint")
                )
    report.entries = size
    if report.largest_checkpoint > size:
        report.problems.append(
            Problem(
                "truncated",
                size,
                f"a checkpoint covers {report.largest_checkpoint} entries, the log has {size}",
            )
        )
    state = connection.execute(select(STATE).where(STATE.c.id == TREE_STATE_ID)).one_or_none()
    left_out = _left_out(connection, state)
    if left_out:
        report.problems.append(
            Problem("left_out", None, f"{left_out} entries below the horizon are not in the tree")
        )
    if state is not None and (
        int(state.tree_size) != size or bytes(state.root_hash) != root_from_edge(edge)
    ):
        report.problems.append(
            Problem("state_mismatch", size, "the stored tree state differs from the entries")
        )
    return report
