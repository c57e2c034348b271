"""Helpers for tests of the transparency log: a fixed test signing key, and integrating
(committed) entries on an engine."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from onshi.audit.integrator import integrate_pending
from onshi.audit.keys import LogIdentity
from onshi.audit.models import AuditEvent, EntryKind, TlogLeaf
from onshi.audit.note import Signer
from onshi.audit.verify import VerifyReport, verify_log
from onshi.clock import Clock, FrozenClock

TEST_SIGNER = Signer("onshi.test/transparency", bytes(range(32)))
TEST_IDENTITY = LogIdentity(origin="onshi.test/transparency", signer=TEST_SIGNER)


def integrate(
    engine: Engine,
    clock: Clock | None = None,
    *,
    export: Path | None = None,
    limit: int = 5000,
) -> int:
    """Integrate every committed entry waiting (in as many batches of ``limit`` as needed)."""
    with engine.connect() as connection:
        return integrate_pending(
            connection, TEST_IDENTITY, clock or FrozenClock(), export=export, limit=limit
        )


def verify(engine: Engine, notes: list[str] | None = None) -> VerifyReport:
    with engine.connect() as connection:
        return verify_log(connection, TEST_IDENTITY, notes)


def positions(session: Session, kind: EntryKind = EntryKind.AUDIT) -> dict[int, int]:
    """Entry id → its position in the tree, for the integrated entries of one table."""
    rows = session.execute(
        select(TlogLeaf.entry_id, TlogLeaf.leaf_index).where(TlogLeaf.entry_kind == kind)
    )
    return {int(entry_id): int(index) for entry_id, index in rows}


def waiting(session: Session) -> int:
    """How many audit events have no position yet."""
    placed = select(TlogLeaf.leaf_index).where(
        TlogLeaf.entry_kind == EntryKind.AUDIT, TlogLeaf.entry_id == AuditEvent.id
    )
    return int(
        session.scalar(select(func.count()).select_from(AuditEvent).where(~placed.exists())) or 0
    )
