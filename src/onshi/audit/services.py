"""Writes of the audit domain: audit events and the patient-visible access log, both entries of
the transparency log.

Each call inserts its rows in the caller's transaction and flushes; nothing else is touched (no
shared row, no lock), so audited writes no longer wait for each other. The rows wait until
the integrator (:mod:`onshi.audit.integrator`) gives them their place in the Merkle tree and
signs a checkpoint covering them; a rolled-back transaction leaves nothing for it to find.
What is logged and how it is proved: docs/transparency-log.md.

Services flush, never commit: the request owns the transaction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from onshi.audit.models import AccessPurpose, ActorKind, AuditEvent, DataAccess, DataKind
from onshi.clock import Clock
from onshi.db.bulk import BulkInsert

_EVENTS: Final = cast(Table, AuditEvent.__table__)
_BULK_COLUMNS: Final = (
    "occurred_at",
    "actor_kind",
    "actor_id",
    "action",
    "object_type",
    "object_id",
    "person_id",
    "institution_id",
    "details",
)

_INSERT_AUDIT = insert(_EVENTS)


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


@dataclass(frozen=True)
class AccessBasis:
    """What allowed a staff view, stored on its access-log row (docs/viewer.md)."""

    staff_role: str | None = None
    qualification_id: int | None = None
    consent_id: int | None = None
    consent_expires_at: datetime | None = None
    disaster_declaration_id: int | None = None


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
    """Write one audit event (a log entry) and flush it. ``details`` must be JSON-serialisable
    (strings, numbers, booleans, None, lists and string-keyed mappings of those)."""
    entry = AuditEntry(
        actor_kind, actor_id, action, object_type, object_id, person_id, institution_id, details
    )
    (event,) = record_audits(db, clock, [entry])
    return event


def record_audits(
    db: Session, clock: Clock, entries: Sequence[AuditEntry], *, bulk: bool = False
) -> list[AuditEvent]:
    """Write several audit events, in order, in one INSERT. Flushes.

    ``bulk=True`` is for thousands of events at once (a chunk of registration intake): the same
    rows — same columns, same canonical details, stored through the same column types — are
    inserted through the driver's executemany (:class:`onshi.db.bulk.BulkInsert`) instead of
    as ORM objects, and nothing is returned."""
    if not entries:
        return []
    occurred_at = _utc(clock.now())
    if bulk:
        db.flush()
        writer = BulkInsert(db.connection(), _EVENTS, _BULK_COLUMNS)
        at = writer.convert("occurred_at", occurred_at)
        details = writer.converter("details")
        rows = []
        for entry in entries:
            kind = _checked_kind(entry)
            text = _plain_details_text(entry.details)
            rows.append((
                at, kind.value, None if entry.actor_id is None else str(entry.actor_id),
                entry.action, entry.object_type, str(entry.object_id), entry.person_id,
                entry.institution_id,
                details(_canonical_details(entry.details)) if text is None else text,
            ))  # fmt: skip
        writer.run(rows)
        return []
    checked = [_checked(entry) for entry in entries]
    events = []
    for kind, entry, canonical_details in checked:
        event = AuditEvent(
            occurred_at=occurred_at,
            actor_kind=kind,
            actor_id=None if entry.actor_id is None else str(entry.actor_id),
            action=entry.action,
            object_type=entry.object_type,
            object_id=str(entry.object_id),
            person_id=entry.person_id,
            institution_id=entry.institution_id,
            details=canonical_details,
        )
        events.append(event)
    db.add_all(events)
    db.flush()
    return events


def append_audits(db: Session, clock: Clock, entries: Sequence[AuditEntry]) -> None:
    """The rows of :func:`record_audits`, written by one Core ``executemany`` (one statement
    whatever the number of entries, on SQLite too) and returned as nothing: for callers that
    do not need the ORM objects (the consents of a card check)."""
    if not entries:
        return
    occurred_at = _utc(clock.now())
    rows = [
        {
            "occurred_at": occurred_at,
            "actor_kind": kind,
            "actor_id": None if entry.actor_id is None else str(entry.actor_id),
            "action": entry.action,
            "object_type": entry.object_type,
            "object_id": str(entry.object_id),
            "person_id": entry.person_id,
            "institution_id": entry.institution_id,
            "details": canonical_details,
        }
        for kind, entry, canonical_details in (_checked(entry) for entry in entries)
    ]
    db.execute(_INSERT_AUDIT, rows)


def audit_details_json(details: Mapping[str, Any] | None) -> str:
    """``details`` as the canonical JSON text that is stored (for statements that write audit
    rows in SQL, onshi.verification.lean_writes)."""
    return _canonical_json(_canonical_details(details))


def _checked_kind(entry: AuditEntry) -> ActorKind:
    kind = ActorKind(entry.actor_kind)
    if kind is not ActorKind.SYSTEM and entry.actor_id is None:
        raise ValueError(f"an audit event by a {kind.value} needs an actor_id")
    if not entry.action or not entry.object_type:
        raise ValueError("an audit event needs an action and an object_type")
    return kind


def _checked(entry: AuditEntry) -> tuple[ActorKind, AuditEntry, dict[str, Any]]:
    return _checked_kind(entry), entry, _canonical_details(entry.details)


_PLAIN: Final = (str, int, type(None))


def _plain_details_text(details: Mapping[str, Any] | None) -> str | None:
    """The text the JSON column stores for :func:`_canonical_details` of ``details`` (the
    column's serializer, ``json.dumps``, of the key-sorted plain copy), made in one step when
    ``details`` is a dict of string keys whose values are strings, integers, None or lists of
    strings (what a bulk writer's details are); None otherwise (the caller takes the general
    path). The same bytes: sorting the keys here is what the copy's key order is."""
    if type(details) is not dict:
        return None
    for key, value in details.items():
        if type(key) is not str:
            return None
        if isinstance(value, list):
            if not all(isinstance(item, str) for item in value):
                return None
        elif not isinstance(value, _PLAIN):
            return None
    return json.dumps(details, sort_keys=True)


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
    basis: AccessBasis | None = None,
) -> DataAccess:
    """Log one view of a person's data (shown to that person) and flush it.

    A view by the person themself (``self``) names no institution or staff; any other view
    names the institution whose staff looked; a viewer read also gives its ``basis`` (the
    viewer's role, the member record read, and the consent or declaration that allowed it).
    The row is also a transparency-log entry: the patient can get a receipt proving it is in
    the log."""
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
    if basis is not None:
        if why is AccessPurpose.SELF:
            raise ValueError("a self view has no basis")
        access.staff_role = basis.staff_role
        access.qualification_id = basis.qualification_id
        access.consent_id = basis.consent_id
        access.consent_expires_at = (
            None if basis.consent_expires_at is None else _utc(basis.consent_expires_at)
        )
        access.disaster_declaration_id = basis.disaster_declaration_id
    db.add(access)
    db.flush()
    return access


def utc(moment: datetime) -> datetime:
    """An entry's timestamp: timezone-aware, in UTC."""
    if moment.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return moment.astimezone(UTC)


_utc = utc


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
