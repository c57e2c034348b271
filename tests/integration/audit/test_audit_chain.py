"""The audit chain: appends link up, verification finds every kind of tampering, concurrent
appenders never fork the chain."""

from __future__ import annotations

import hashlib
import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from onshi.audit.errors import AuditChainUnavailableError
from onshi.audit.models import GENESIS_HASH, ActorKind, AuditEvent
from onshi.audit.services import (
    AuditEntry,
    chain_head,
    event_hash,
    record_audit,
    record_audits,
    verify_audit_chain,
)
from onshi.clock import FrozenClock


def _append(db: Session, clock: FrozenClock, n: int, **fields: object) -> list[AuditEvent]:
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
                institution_id=None,
                details={"n": i, "名前": "山田", "nested": {"b": [1, 2.5, None], "a": True}},
                **fields,  # type: ignore[arg-type]
            )
        )
    return events


def test_events_form_a_chain(db: Session, clock: FrozenClock) -> None:
    first, second, third = _append(db, clock, 3)

    assert [first.seq, second.seq, third.seq] == [1, 2, 3]
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert len({first.hash, second.hash, third.hash}) == 3
    assert first.actor_id == "7"
    assert first.object_id == "100"
    assert chain_head(db).last_hash == third.hash


def test_chain_survives_commit_and_reload(
    db: Session, clock: FrozenClock, db_session_factory: sessionmaker[Session]
) -> None:
    _append(db, clock, 2)
    db.commit()
    with db_session_factory() as other:
        (event,) = _append(other, clock, 1)
        other.commit()
        assert event.seq == 3
    db.expire_all()
    report = verify_audit_chain(db)
    assert report.ok, report.problems
    assert report.checked == 3
    assert report.last_seq == 3


def test_verify_reads_back_the_stored_rows(db: Session, clock: FrozenClock) -> None:
    _append(db, clock, 5)
    db.commit()
    db.expire_all()  # hashes are recomputed from what the database returns
    report = verify_audit_chain(db, batch_size=2)
    assert report.ok, report.problems
    assert report.checked == 5


def test_empty_chain_verifies(db: Session) -> None:
    report = verify_audit_chain(db)
    assert report.ok
    assert report.checked == 0
    assert report.last_hash == GENESIS_HASH


def test_rolled_back_events_leave_no_gap(db: Session, clock: FrozenClock) -> None:
    _append(db, clock, 2)
    db.commit()
    _append(db, clock, 3)
    db.rollback()
    (event,) = _append(db, clock, 1)
    db.commit()
    assert event.seq == 3
    assert verify_audit_chain(db).ok


def _commit_five(db: Session, clock: FrozenClock) -> list[AuditEvent]:
    events = _append(db, clock, 5)
    db.commit()
    return events


def _problems(db: Session) -> list[tuple[int, str]]:
    db.expire_all()
    return [(p.seq, p.kind) for p in verify_audit_chain(db).problems]


def test_edited_details_are_detected(db: Session, clock: FrozenClock) -> None:
    events = _commit_five(db, clock)
    db.execute(text("UPDATE audit_events SET details = :d WHERE seq = 3"), {"d": '{"n": 999}'})
    db.commit()
    assert _problems(db) == [(3, "tampered")]
    assert events[2].seq == 3


def test_edited_column_is_detected(db: Session, clock: FrozenClock) -> None:
    _commit_five(db, clock)
    db.execute(text("UPDATE audit_events SET actor_id = '8' WHERE seq = 2"))
    db.commit()
    assert _problems(db) == [(2, "tampered")]


def test_rehashed_row_breaks_the_next_link(db: Session, clock: FrozenClock) -> None:
    _commit_five(db, clock)
    event = db.scalars(select(AuditEvent).where(AuditEvent.seq == 2)).one()
    event.action = "qualification.delete"
    event.hash = event_hash(event)  # the forger recomputes this row's hash, not the rest
    db.commit()
    assert _problems(db) == [(3, "broken_link")]


def test_deleted_row_is_detected(db: Session, clock: FrozenClock) -> None:
    _commit_five(db, clock)
    db.execute(text("DELETE FROM audit_events WHERE seq = 3"))
    db.commit()
    assert _problems(db) == [(3, "missing")]


def test_deleted_first_row_is_detected(db: Session, clock: FrozenClock) -> None:
    _commit_five(db, clock)
    db.execute(text("DELETE FROM audit_events WHERE seq = 1"))
    db.commit()
    assert _problems(db) == [(1, "missing")]


def test_truncated_tail_is_detected(db: Session, clock: FrozenClock) -> None:
    _commit_five(db, clock)
    db.execute(text("DELETE FROM audit_events WHERE seq >= 4"))
    db.commit()
    assert _problems(db) == [(4, "missing")]


def test_replaced_tail_is_detected(db: Session, clock: FrozenClock) -> None:
    events = _commit_five(db, clock)
    forged = events[4]
    forged.details = {"forged": True}
    forged.hash = event_hash(forged)
    db.commit()
    assert _problems(db) == [(5, "head_mismatch")]


def test_hash_is_sha256_of_canonical_json(db: Session, clock: FrozenClock) -> None:
    (event,) = _append(db, clock, 1)
    assert len(event.hash) == 64
    assert event.hash == event_hash(event)
    assert event.hash != hashlib.sha256(b"").hexdigest()


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
    assert chain_head(db).last_seq == 0
    assert db.scalar(select(AuditEvent.id)) is None


def test_missing_chain_head_refuses_to_append(db: Session, clock: FrozenClock) -> None:
    db.execute(text("DELETE FROM audit_chain_head"))
    with pytest.raises(AuditChainUnavailableError):
        record_audit(
            db, clock, actor_kind="system", actor_id=None, action="x", object_type="y", object_id=1
        )
    db.rollback()


def test_concurrent_appenders_never_fork_the_chain(
    db: Session, db_session_factory: sessionmaker[Session]
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
    report = verify_audit_chain(db)
    assert report.ok, report.problems
    assert report.checked == threads * per_thread
    seqs = list(db.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
    assert seqs == list(range(1, threads * per_thread + 1))


def test_several_events_appended_at_once_continue_the_chain(
    db: Session, clock: FrozenClock
) -> None:
    (single,) = _append(db, clock, 1)
    batch = record_audits(
        db,
        clock,
        [
            AuditEntry(ActorKind.DEVICE, 3, "consent.recorded", "consent", n, person_id=42)
            for n in range(3)
        ],
    )
    (after,) = _append(db, clock, 1)

    assert [event.seq for event in batch] == [2, 3, 4]
    assert [event.prev_hash for event in batch] == [single.hash, batch[0].hash, batch[1].hash]
    assert after.seq == 5
    assert after.prev_hash == batch[2].hash
    assert all(event.hash == event_hash(event) for event in batch)
    assert record_audits(db, clock, []) == []
    assert verify_audit_chain(db).ok


def test_a_bad_entry_in_a_batch_appends_nothing(db: Session, clock: FrozenClock) -> None:
    entries = [
        AuditEntry(ActorKind.DEVICE, 3, "consent.recorded", "consent", 1),
        AuditEntry(ActorKind.DEVICE, None, "consent.recorded", "consent", 2),
    ]
    with pytest.raises(ValueError, match="actor_id"):
        record_audits(db, clock, entries)

    assert chain_head(db).last_seq == 0
