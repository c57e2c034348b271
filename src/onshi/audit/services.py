"""Writes of the audit domain: the hash-chained audit trail and the patient-visible access log.

Hash chain
    Each ``AuditEvent`` carries ``seq`` (1, 2, 3 … without gaps), ``prev_hash`` (the previous
    event's hash, or 64 zeros for the first) and ``hash`` = SHA-256 of the canonical JSON of the
    event's content plus ``prev_hash`` (see :func:`event_hash`). Changing, removing or reordering
    any row breaks the chain, which :func:`verify_audit_chain` reports.

Concurrency
    The newest link lives in the single row ``audit_chain_head``. An appender first runs
    ``UPDATE audit_chain_head SET last_seq = last_seq + 1 … RETURNING last_seq, last_hash``. On
    PostgreSQL that takes the row lock (a second appender waits until the first transaction ends,
    then, under READ COMMITTED, its UPDATE re-reads the committed head), so appenders are
    serialised and no two events get the same seq or prev_hash. On SQLite the UPDATE takes the
    database write lock (waiting up to ``busy_timeout``), with the same effect. The lock is held
    until the request's transaction ends, so audited writes are serialised with each other; this
    is the price of one total order, and it is why services append their audit event as the last
    write of a transaction. A rolled-back transaction rolls back its event and the head together.

What the chain does and does not prove
    It detects edits and deletions made without rewriting every later row. An attacker able to
    rewrite the whole tail can recompute it; export the head (:func:`chain_head`) to somewhere
    they cannot write (a log, a daily notarised file) to close that gap.

The access log (``data_access_log``) is what the patient sees on the portal. It is written by
:func:`record_data_access` in the same transaction as the read it describes; it is not part of
the chain, to keep the hot read paths free of the chain lock.

Services flush, never commit: the request owns the transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from onshi.audit.errors import AuditChainUnavailableError
from onshi.audit.models import (
    CHAIN_HEAD_ID,
    GENESIS_HASH,
    AccessPurpose,
    ActorKind,
    AuditChainHead,
    AuditEvent,
    DataAccess,
    DataKind,
)
from onshi.clock import Clock

_HEAD = cast(Table, AuditChainHead.__table__)


@dataclass(frozen=True)
class AuditEntry:
    """One event for :func:`record_audits` (the arguments of :func:`record_audit`)."""

    actor_kind: ActorKind | str
    actor_id: str | int | None
    action: str
    object_type: str
    object_id: str | int
    person_id: int | None = None
    institution_id: int | None = None
    details: Mapping[str, Any] | None = None


def record_audit(
    db: Session,
    clock: Clock,
    *,
    actor_kind: ActorKind | str,
    actor_id: str | int | None,
    action: str,
    object_type: str,
    object_id: str | int,
    person_id: int | None = None,
    institution_id: int | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the audit chain and flush it. ``details`` must be JSON-serialisable
    (strings, numbers, booleans, None, lists and string-keyed mappings of those)."""
    entry = AuditEntry(
        actor_kind, actor_id, action, object_type, object_id, person_id, institution_id, details
    )
    (event,) = record_audits(db, clock, [entry])
    return event


def record_audits(db: Session, clock: Clock, entries: Sequence[AuditEntry]) -> list[AuditEvent]:
    """Append several events to the chain, in order, with one advance of the head (one
    ``UPDATE … RETURNING`` for all their seqs, one for the last hash, one INSERT): the same
    chain as that many :func:`record_audit` calls, in a fifth of the statements, so the head's
    row lock is taken later and held for less time. Flushes."""
    if not entries:
        return []
    occurred_at = _utc(clock.now())
    checked = [_checked(entry) for entry in entries]
    last_seq, prev_hash = _advance_head(db, len(checked))
    seq = last_seq - len(checked)
    events = []
    for kind, entry, canonical_details in checked:
        seq += 1
        event = AuditEvent(
            seq=seq,
            occurred_at=occurred_at,
            actor_kind=kind,
            actor_id=None if entry.actor_id is None else str(entry.actor_id),
            action=entry.action,
            object_type=entry.object_type,
            object_id=str(entry.object_id),
            person_id=entry.person_id,
            institution_id=entry.institution_id,
            details=canonical_details,
            prev_hash=prev_hash,
        )
        event.hash = prev_hash = event_hash(event)
        events.append(event)
    db.add_all(events)
    db.execute(update(_HEAD).where(_HEAD.c.id == CHAIN_HEAD_ID).values(last_hash=prev_hash))
    db.flush()
    return events


def _checked(entry: AuditEntry) -> tuple[ActorKind, AuditEntry, dict[str, Any]]:
    kind = ActorKind(entry.actor_kind)
    if kind is not ActorKind.SYSTEM and entry.actor_id is None:
        raise ValueError(f"an audit event by a {kind.value} needs an actor_id")
    if not entry.action or not entry.object_type:
        raise ValueError("an audit event needs an action and an object_type")
    return kind, entry, _canonical_details(entry.details)


def _advance_head(db: Session, count: int = 1) -> tuple[int, str]:
    """Lock the chain head, take the next ``count`` seqs; returns (the last of them, the
    previous hash)."""
    row = db.execute(
        update(_HEAD)
        .where(_HEAD.c.id == CHAIN_HEAD_ID)
        .values(last_seq=_HEAD.c.last_seq + count)
        .returning(_HEAD.c.last_seq, _HEAD.c.last_hash)
    ).one_or_none()
    if row is None:
        raise AuditChainUnavailableError()
    return int(row.last_seq), str(row.last_hash)


def event_hash(event: AuditEvent) -> str:
    """SHA-256 (hex) of the canonical JSON of the event's content and its ``prev_hash``.
    Canonical: sorted keys, no insignificant whitespace, UTF-8, timestamps as UTC ISO 8601 with
    microseconds. ``id`` and ``hash`` itself are not part of it."""
    payload = {
        "seq": event.seq,
        "occurred_at": _utc(event.occurred_at).isoformat(timespec="microseconds"),
        "actor_kind": ActorKind(event.actor_kind).value,
        "actor_id": event.actor_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "person_id": event.person_id,
        "institution_id": event.institution_id,
        "details": event.details,
        "prev_hash": event.prev_hash,
    }
    return hashlib.sha256(_canonical_json(payload).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainHead:
    last_seq: int
    last_hash: str


def chain_head(db: Session) -> ChainHead:
    """The newest committed link (for exporting to an external anchor)."""
    row = db.execute(
        select(_HEAD.c.last_seq, _HEAD.c.last_hash).where(_HEAD.c.id == CHAIN_HEAD_ID)
    ).one_or_none()
    if row is None:
        raise AuditChainUnavailableError()
    return ChainHead(last_seq=int(row.last_seq), last_hash=str(row.last_hash))


@dataclass(frozen=True)
class ChainProblem:
    """One defect. ``kind``: ``missing`` (seq absent; ``seq`` is the first absent one, ``detail``
    says how many), ``tampered`` (content does not match its hash), ``broken_link`` (prev_hash
    is not the previous event's hash), ``head_mismatch`` (the head does not point at the last
    event: the tail was removed or replaced)."""

    seq: int
    kind: str
    detail: str


@dataclass(frozen=True)
class AuditChainReport:
    checked: int
    last_seq: int
    last_hash: str
    problems: tuple[ChainProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_audit_chain(db: Session, *, batch_size: int = 1000) -> AuditChainReport:
    """Recompute the whole chain, in seq order, streaming ``batch_size`` rows at a time.

    The head is read first and only events up to its seq are checked, so events appended while
    the check runs are left for the next run instead of being reported."""
    head = chain_head(db)
    problems: list[ChainProblem] = []
    expected_seq = 1
    prev_hash = GENESIS_HASH
    checked = 0
    rows = db.execute(
        select(AuditEvent)
        .where(AuditEvent.seq <= head.last_seq)
        .order_by(AuditEvent.seq)
        .execution_options(yield_per=batch_size)
    ).scalars()
    for event in rows:
        checked += 1
        if event.seq != expected_seq:
            missing = event.seq - expected_seq
            problems.append(ChainProblem(expected_seq, "missing", f"{missing} event(s) absent"))
        elif event.prev_hash != prev_hash:
            problems.append(
                ChainProblem(event.seq, "broken_link", "prev_hash differs from previous hash")
            )
        if event_hash(event) != event.hash:
            problems.append(ChainProblem(event.seq, "tampered", "content does not match hash"))
        expected_seq = event.seq + 1
        prev_hash = event.hash
    if expected_seq <= head.last_seq:
        missing = head.last_seq - expected_seq + 1
        problems.append(ChainProblem(expected_seq, "missing", f"{missing} event(s) absent"))
    elif head.last_seq and prev_hash != head.last_hash:
        problems.append(
            ChainProblem(head.last_seq, "head_mismatch", "chain head hash differs from last event")
        )
    return AuditChainReport(
        checked=checked,
        last_seq=head.last_seq,
        last_hash=head.last_hash,
        problems=tuple(problems),
    )


def record_data_access(
    db: Session,
    clock: Clock,
    *,
    person_id: int,
    data_kind: DataKind | str,
    purpose: AccessPurpose | str,
    institution_id: int | None = None,
    staff_account_id: int | None = None,
    verification_event_id: int | None = None,
) -> DataAccess:
    """Log one view of a person's data (shown to that person) and flush it.

    A view by the person themself (``self``) names no institution or staff; any other view
    names the institution whose staff looked."""
    kind = DataKind(data_kind)
    why = AccessPurpose(purpose)
    if why is AccessPurpose.SELF:
        if institution_id is not None or staff_account_id is not None:
            raise ValueError("a self view names no institution or staff account")
    elif institution_id is None:
        raise ValueError(f"a {why.value} view must name the institution")
    access = DataAccess(
        person_id=person_id,
        institution_id=institution_id,
        staff_account_id=staff_account_id,
        data_kind=kind,
        purpose=why,
        occurred_at=_utc(clock.now()),
        verification_event_id=verification_event_id,
    )
    db.add(access)
    db.flush()
    return access


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return moment.astimezone(UTC)


def _canonical_json(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def _canonical_details(details: Mapping[str, Any] | None) -> dict[str, Any]:
    """A plain JSON copy of ``details``: what is stored is exactly what was hashed, whatever the
    database does to JSON (PostgreSQL ``jsonb`` would reorder keys; we sort them anyway)."""
    if details is None:
        return {}
    try:
        copied: dict[str, Any] = json.loads(_canonical_json(dict(details)))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"audit details must be JSON-serialisable: {exc}") from None
    return copied
