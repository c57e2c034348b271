"""The trace every portal read of a person's own medical data leaves: a ``self`` row in the
access log the patient sees, and an event in the audit chain (same transaction)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from onshi.audit.models import AccessPurpose, ActorKind, DataKind
from onshi.audit.services import record_audit, record_data_access
from onshi.clock import Clock


def log_self_view(
    db: Session,
    clock: Clock,
    *,
    person_id: int,
    account_id: int,
    kind: DataKind,
    details: Mapping[str, Any] | None = None,
) -> None:
    record_data_access(db, clock, person_id=person_id, data_kind=kind, purpose=AccessPurpose.SELF)
    record_audit(
        db,
        clock,
        actor_kind=ActorKind.PATIENT,
        actor_id=account_id,
        action="portal.viewed",
        object_type=kind.value,
        object_id=person_id,
        person_id=person_id,
        details=details,
    )
