"""The transparency log: services write entries with no shared lock, the integrator gives them
positions and signs checkpoints, verification recomputes the tree."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from onshi.audit import integrator
from onshi.audit.entries import audit_entry_bytes
from onshi.audit.integrator import integrate_batch
from onshi.audit.merkle import leaf_hash, tree_root
from onshi.audit.models import (
    ActorKind,
    AuditEvent,
    DataAccess,
    EntryKind,
    TlogCheckpoint,
    TlogLeaf,
    TlogNode,
    TlogState,
)
from onshi.audit.note import open_checkpoint
from onshi.audit.services import AuditEntry, record_audit, record_audits, record_data_access
from onshi.clock import FrozenClock
from tests.factories import make_person
from tests.integration.conftest import BACKENDS
from tests.tlog_helpers import TEST_IDENTITY, integrate, positions, verify


def _append(db: Session, clock: FrozenClock, n: int) -> list[AuditEvent]:
    events = []
    for i in range(n):
        clock.advance(timedelta(seconds=1))
        events.append(
            record_audit(
                db,
                clock,
                actor_kind=ActorKind.STAFF,
                actor_id=7,
                action="qualification.register",
                object_type="qualification",
                object_id=100 + i,
                person_id=42,
                details={"n": i, "名前": "山田", "nested": {"b": [1, 2.5, None], "a": True}},
            )
        )
    return events


def test_entries_wait_without_a_position_until_integrated(
    db: Session, db_engine: Engine, clock: FrozenClock
) -> None:
    events = _append(db, clock, 3)
    db.commit()
    assert positions(db) == {}
    assert db.scalar(select(func.count()).select_from(TlogLeaf)) == 0

    assert integrate(db_engine, clock) == 3
    db.expire_all()
    assert positions(db) == {e.id: i for i, e in enumerate(events)}
    checkpoint = db.scalars(select(TlogCheckpoint)).one()
    opened = open_checkpoint(checkpoint.note, TEST_IDENTITY.verifier, TEST_IDENTITY.origin)
    stored = [db.get(AuditEvent, e.id) for e in events]
    expected = tree_root(leaf_hash(audit_entry_bytes(e)) for e in stored if e is not None)
    assert (opened.size, opened.root_hash) == (3, expected)
    assert checkpoint.root_hash == expected
    assert verify(db_engine).ok
    assert integrate(db_engine, clock) == 0  # nothing waits: no new checkpoint
    assert db.scalar(select(func.count()).select_from(TlogCheckpoint)) == 1


def test_batches_extend_the_same_tree(db: Session, db_engine: Engine, clock: FrozenClock) -> None:
    """Integrating 3 entries at a time gives the root of integrating all at once, and stores
    the complete subtrees of the tile levels (8, 16 …) only."""
    events = _append(db, clock, 300)
    db.commit()
    assert integrate(db_engine, clock, limit=3) == 300
    assert db.scalar(select(func.count()).select_from(TlogCheckpoint)) == 100
    state = db.get(TlogState, 1)
    assert state is not None
    db.expire_all()
    at = positions(db)
    ordered = sorted((db.get(AuditEvent, e.id) for e in events), key=lambda e: at[e.id])  # type: ignore[union-attr]
    assert state.root_hash == tree_root(leaf_hash(audit_entry_bytes(e)) for e in ordered)  # type: ignore[arg-type]
    # 300 leaves: one complete subtree of 256 at level 8, none at level 16.
    nodes = db.execute(select(TlogNode.level, TlogNode.node_index)).all()
    assert [tuple(node) for node in nodes] == [(8, 0)]
    report = verify(db_engine)
    assert report.ok, report.problems
    assert (report.entries, report.checkpoints) == (300, 100)


def test_access_log_rows_are_entries_too(
    db: Session, db_engine: Engine, clock: FrozenClock
) -> None:
    person = make_person(db)
    access = record_data_access(db, clock, person_id=person.id, data_kind="drug", purpose="self")
    _append(db, clock, 1)
    db.commit()
    assert integrate(db_engine, clock) == 2
    assert positions(db, EntryKind.ACCESS) == {access.id: 0}  # the older one first
    assert verify(db_engine).ok


def test_rolled_back_entries_leave_nothing(
    db: Session, db_engine: Engine, clock: FrozenClock
) -> None:
    _append(db, clock, 2)
    db.commit()
    _append(db, clock, 2)
    db.rollback()
    _append(db, clock, 1)
    db.commit()
    assert integrate(db_engine, clock) == 3
    assert verify(db_engine).ok


def test_an_entry_is_never_integrated_twice(
    db: Session, db_engine: Engine, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With its horizon lost, the integrator finds the entry again and skips it (it has a
    position); a batch that still read it as waiting (another integrator's, racing) collides
    with the positions table's unique entry and rolls back entirely."""
    _append(db, clock, 1)
    db.commit()
    integrate(db_engine, clock)
    db.execute(text("UPDATE tlog_state SET audit_horizon = 0, access_horizon = 0"))
    db.commit()
    assert integrate(db_engine, clock) == 0

    def stale(connection: Connection, entry: Any, *_: Any) -> list[Any]:
        return list(connection.execute(select(entry.table)))  # the leaf not looked at

    monkeypatch.setattr(integrator, "_waiting", stale)
    with pytest.raises(IntegrityError), db_engine.connect() as connection:
        integrate_batch(connection, TEST_IDENTITY, clock)
    assert db.scalar(select(func.count()).select_from(TlogLeaf)) == 1
    assert db.scalar(select(func.count()).select_from(TlogCheckpoint)) == 1
    assert db.get(TlogState, 1).tree_size == 1  # type: ignore[union-attr]


def test_system_events_need_no_actor_id(db: Session, clock: FrozenClock) -> None:
    event = record_audit(
        db,
        clock,
        actor_kind="system",
        actor_id=None,
        action="seed.run",
        object_type="database",
        object_id="-",
    )
    assert event.actor_kind is ActorKind.SYSTEM
    assert event.details == {}


def test_bad_input_writes_nothing(db: Session, clock: FrozenClock) -> None:
    with pytest.raises(ValueError, match="JSON-serialisable"):
        record_audit(
            db,
            clock,
            actor_kind=ActorKind.STAFF,
            actor_id=1,
            action="x",
            object_type="y",
            object_id=1,
            details={"when": datetime.now(tz=clock.now().tzinfo)},
        )
    with pytest.raises(ValueError, match="actor_id"):
        record_audit(
            db, clock, actor_kind="patient", actor_id=None, action="x", object_type="y", object_id=1
        )
    with pytest.raises(ValueError, match="is not a valid ActorKind"):
        record_audit(
            db, clock, actor_kind="robot", actor_id=1, action="x", object_type="y", object_id=1
        )
    with pytest.raises(ValueError, match="timezone-aware"):
        record_audit(
            db,
            FrozenClock(current=datetime(2026, 1, 1)),  # noqa: DTZ001  (the point of the test)
            actor_kind="system",
            actor_id=None,
            action="x",
            object_type="y",
            object_id=1,
        )
    entries = [
        AuditEntry(ActorKind.DEVICE, 3, "consent.recorded", "consent", 1),
        AuditEntry(ActorKind.DEVICE, None, "consent.recorded", "consent", 2),
    ]
    with pytest.raises(ValueError, match="actor_id"):
        record_audits(db, clock, entries)
    assert db.scalar(select(AuditEvent.id)) is None


def test_several_events_at_once(db: Session, db_engine: Engine, clock: FrozenClock) -> None:
    batch = record_audits(
        db,
        clock,
        [
            AuditEntry(ActorKind.DEVICE, 3, "consent.recorded", "consent", n, person_id=42)
            for n in range(3)
        ],
    )
    assert [event.object_id for event in batch] == ["0", "1", "2"]
    assert record_audits(db, clock, []) == []
    db.commit()
    assert integrate(db_engine, clock) == 3
    assert verify(db_engine).ok


def test_concurrent_writers_all_land_once(
    db: Session, db_engine: Engine, db_session_factory: sessionmaker[Session]
) -> None:
    threads, per_thread = 4, 10
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def work(worker: int) -> None:
        clock = FrozenClock()
        try:
            start.wait()
            for i in range(per_thread):
                with db_session_factory() as session:
                    record_audit(
                        session,
                        clock,
                        actor_kind=ActorKind.DEVICE,
                        actor_id=worker,
                        action="verification.card",
                        object_type="verification_event",
                        object_id=f"{worker}-{i}",
                    )
                    session.commit()
        except BaseException as exc:  # reported to the main thread below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=120)
    assert errors == []
    assert integrate(db_engine) == threads * per_thread
    assert sorted(positions(db).values()) == list(range(threads * per_thread))
    assert verify(db_engine).ok


def test_recording_takes_no_shared_lock(
    db_engine: Engine, db_session_factory: sessionmaker[Session], db: Session
) -> None:
    """Recording entries only INSERTs (no shared row is updated). On PostgreSQL, while one
    transaction holds uncommitted entries another writes and commits its own at once (the hash
    chain's head row made it wait)."""
    clock = FrozenClock()
    statements: list[str] = []

    def capture(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement.lstrip().split(None, 1)[0].upper())

    person = make_person(db)
    db.commit()
    with db_session_factory() as first:
        connection = first.connection()
        event.listen(connection, "before_cursor_execute", capture)
        _append(first, clock, 2)
        record_audits(first, clock, [AuditEntry("system", None, "x", "y", 1)])
        record_data_access(first, clock, person_id=person.id, data_kind="drug", purpose="self")
        event.remove(connection, "before_cursor_execute", capture)
        assert set(statements) == {"INSERT"}
        if db_engine.dialect.name == "postgresql":
            with db_session_factory() as second:
                second.execute(text("SET LOCAL lock_timeout = '2s'"))
                _append(second, clock, 1)
                second.commit()
        first.commit()
    assert integrate(db_engine) == 4 + (db_engine.dialect.name == "postgresql")


@pytest.mark.parametrize("db_backend", [BACKENDS[1]], indirect=True)
def test_an_entry_committed_late_is_not_skipped(
    db_engine: Engine, db_session_factory: sessionmaker[Session], db: Session, clock: FrozenClock
) -> None:
    """PostgreSQL ids can commit out of order: an entry whose transaction took its id first but
    commits after a batch integrated a larger id still gets a position (the next free one),
    because the horizon stays below every transaction still running."""
    with db_session_factory() as late:
        (early,) = _append(late, clock, 1)  # id taken, not committed
        (quick,) = _append(db, clock, 1)
        db.commit()
        assert quick.id > early.id
        assert integrate(db_engine) == 1
        late.commit()
        early_id = early.id
    assert integrate(db_engine) == 1
    assert positions(db) == {quick.id: 0, early_id: 1}
    assert verify(db_engine).ok


def test_an_entry_written_below_the_horizon_is_reported(
    db_engine: Engine, db: Session, clock: FrozenClock
) -> None:
    """What the horizon rules out (on SQLite: an id below the horizon, which only an explicit
    id can give; on PostgreSQL: a transaction id that had ended) is never integrated, and
    ``verify`` names it."""
    _append(db, clock, 2)
    db.commit()
    assert integrate(db_engine) == 2
    first = min(positions(db))
    db.execute(text("DELETE FROM tlog_leaves WHERE entry_id = :id"), {"id": first})
    db.execute(text("UPDATE tlog_state SET tree_size = 1"))
    db.commit()
    report = verify(db_engine)
    assert "left_out" in {problem.kind for problem in report.problems}


def test_data_access_rows_keep_their_fields(db: Session, clock: FrozenClock) -> None:
    person = make_person(db)
    record_data_access(db, clock, person_id=person.id, data_kind="expense", purpose="self")
    db.commit()
    row = db.scalars(select(DataAccess)).one()
    assert (row.person_id, row.data_kind, row.purpose) == (person.id, "expense", "self")
    assert positions(db, EntryKind.ACCESS) == {}  # until the integrator runs
