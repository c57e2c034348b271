"""The canonical bytes of a transparency-log entry (what its leaf hash covers).

An entry is one ``audit_events`` or ``data_access_log`` row. Its bytes are the UTF-8 JSON of an
object with sorted keys and no insignificant whitespace; ``type`` names the table, ``id`` the
row; timestamps are UTC ISO 8601 with microseconds. Neither the entry's position (in
``tlog_leaves``, given later) nor ``tx_id`` is part of it. Every value is an opaque number or a
code: names, numbers and other personal data never appear, only the database ids they hide
behind; audit ``details`` are the exception and are shown only to administrators.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Protocol

from onshi.audit.models import EntryKind


class AuditRow(Protocol):
    id: int
    occurred_at: datetime
    actor_kind: str
    actor_id: str | None
    action: str
    object_type: str
    object_id: str
    person_id: int | None
    institution_id: int | None
    details: dict[str, Any]


class AccessRow(Protocol):
    id: int
    occurred_at: datetime
    person_id: int
    institution_id: int | None
    staff_account_id: int | None
    data_kind: str
    purpose: str
    verification_event_id: int | None
    staff_role: str | None
    qualification_id: int | None
    consent_id: int | None
    consent_expires_at: datetime | None
    disaster_declaration_id: int | None


#: Fields of an access entry named only when set (added with the viewer): an older row, which
#: has none of them, keeps exactly the bytes its leaf hash was computed over.
OPTIONAL_ACCESS_FIELDS = (
    "staff_role",
    "qualification_id",
    "consent_id",
    "consent_expires_at",
    "disaster_declaration_id",
)


def audit_entry_bytes(row: AuditRow) -> bytes:
    return canonical_bytes(
        {
            "type": EntryKind.AUDIT.value,
            "id": row.id,
            "occurred_at": timestamp(row.occurred_at),
            "actor_kind": str(row.actor_kind),
            "actor_id": row.actor_id,
            "action": row.action,
            "object_type": row.object_type,
            "object_id": row.object_id,
            "person_id": row.person_id,
            "institution_id": row.institution_id,
            "details": row.details,
        }
    )


def access_entry_bytes(row: AccessRow) -> bytes:
    entry: dict[str, Any] = {
        "type": EntryKind.ACCESS.value,
        "id": row.id,
        "occurred_at": timestamp(row.occurred_at),
        "person_id": row.person_id,
        "institution_id": row.institution_id,
        "staff_account_id": row.staff_account_id,
        "data_kind": str(row.data_kind),
        "purpose": str(row.purpose),
        "verification_event_id": row.verification_event_id,
    }
    for name in OPTIONAL_ACCESS_FIELDS:
        value = getattr(row, name)
        if value is not None:
            entry[name] = timestamp(value) if isinstance(value, datetime) else value
    return canonical_bytes(entry)


def timestamp(moment: datetime) -> str:
    if moment.tzinfo is None:  # SQLite returns UTC without an offset through Core
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_json(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def canonical_bytes(value: Any) -> bytes:
    return canonical_json(value).encode("utf-8")
