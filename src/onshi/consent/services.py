"""Writes of the consent domain. A consent given at the reader is a grant per kind, valid
``consent_hours`` from registration; a new one archives the previous grant of the same kind at
the same institution (``archived_at``; nothing is ever deleted). Each change appends an audit
event in the caller's transaction. Services flush, never commit."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import update
from sqlalchemy.orm import Session

from onshi.audit.models import ActorKind
from onshi.audit.services import record_audit
from onshi.clock import Clock
from onshi.consent.models import Consent, ConsentKind, ConsentValue
from onshi.consent.policies import consent_expiry
from onshi.settings import ConsentRules


def record_consents(
    db: Session,
    clock: Clock,
    *,
    person_id: int,
    institution_id: int,
    choices: Mapping[ConsentKind, bool],
    rules: ConsentRules,
    actor_kind: ActorKind,
    actor_id: int | str | None,
    verification_event_id: int | None = None,
) -> list[Consent]:
    """Store one consent per kind in ``choices`` (True → 同意あり, False → 同意なし), archiving the
    previous grant of each kind at this institution. Returns the new rows in ``choices`` order."""
    now = clock.now()
    expires_at = consent_expiry(now, rules)
    created: list[Consent] = []
    for kind, given in choices.items():
        archived = db.execute(
            update(Consent)
            .where(
                Consent.person_id == person_id,
                Consent.institution_id == institution_id,
                Consent.kind == kind,
                Consent.archived_at.is_(None),
            )
            .values(archived_at=now)
            .execution_options(synchronize_session=False)
        )
        consent = Consent(
            person_id=person_id,
            institution_id=institution_id,
            verification_event_id=verification_event_id,
            kind=kind,
            value=ConsentValue.GIVEN if given else ConsentValue.NOT_GIVEN,
            registered_at=now,
            expires_at=expires_at,
            home_visit=False,
            archived_at=None,
        )
        db.add(consent)
        db.flush()
        record_audit(
            db,
            clock,
            actor_kind=actor_kind,
            actor_id=actor_id,
            action="consent.recorded",
            object_type="consent",
            object_id=consent.id,
            person_id=person_id,
            institution_id=institution_id,
            details={
                "kind": kind.value,
                "value": consent.value.value,
                "expires_at": expires_at.isoformat(),
                "archived_previous": int(getattr(archived, "rowcount", 0) or 0),
                "verification_event_id": verification_event_id,
            },
        )
        created.append(consent)
    return created
