"""Writes of the consent domain. A consent given at the reader is a grant per kind, valid
``consent_hours`` from registration; a new one archives the previous grant of the same kind at
the same institution (``archived_at``; nothing is ever deleted). Each change appends an audit
event in the caller's transaction. Services flush, never commit."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.orm import Session

from onshi.audit.models import ActorKind
from onshi.audit.services import AuditEntry, append_audits
from onshi.clock import Clock
from onshi.consent.models import Consent, ConsentKind, ConsentValue
from onshi.consent.policies import consent_expiry
from onshi.settings import ConsentRules

CONSENT_RECORDED: Final = "consent.recorded"
_CONSENTS: Final = cast(Table, Consent.__table__)
# Built once: SQLAlchemy caches their compiled form.
_ARCHIVE: Final = (
    update(_CONSENTS)
    .where(
        _CONSENTS.c.person_id == bindparam("a_person"),
        _CONSENTS.c.institution_id == bindparam("a_institution"),
        _CONSENTS.c.kind.in_(bindparam("a_kinds", expanding=True)),
        _CONSENTS.c.archived_at.is_(None),
    )
    .values(archived_at=bindparam("a_now"))
    .returning(_CONSENTS.c.kind)
)
# RETURNING the kind too: the rows are matched by kind (one row per kind per call), so the
# statement needs no ordering guarantee and is sent as one batch on SQLite as well.
_INSERT: Final = insert(_CONSENTS).returning(_CONSENTS.c.id, _CONSENTS.c.kind)


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
    kinds = list(choices)
    if not kinds:
        return []
    # One UPDATE archives the previous grants of every kind asked (RETURNING says how many per
    # kind), one INSERT stores the new ones and one append writes their audit events: the same
    # rows as one round per kind, in a few statements (a card verification asks 5 kinds).
    archived_kinds = db.execute(
        _ARCHIVE,
        {
            "a_person": person_id,
            "a_institution": institution_id,
            "a_now": now,
            "a_kinds": kinds,
        },
    ).scalars()
    archived = Counter(ConsentKind(kind) for kind in archived_kinds)
    rows = consent_rows(
        person_id=person_id,
        institution_id=institution_id,
        choices=choices,
        registered_at=now,
        expires_at=expires_at,
        verification_event_id=verification_event_id,
    )
    # Core, not the unit of work: one INSERT … RETURNING for every row (insertmanyvalues).
    # The rows come back as plain (detached) Consent objects, in ``choices`` order.
    ids = {ConsentKind(kind): consent_id for consent_id, kind in db.execute(_INSERT, rows)}
    created = [Consent(id=ids[kind], **row) for kind, row in zip(kinds, rows, strict=True)]
    append_audits(
        db,
        clock,
        [
            consent_audit_entry(
                consent,
                actor_kind=actor_kind,
                actor_id=actor_id,
                archived_previous=archived[consent.kind],
            )
            for consent in created
        ],
    )
    return created


def consent_rows(
    *,
    person_id: int,
    institution_id: int,
    choices: Mapping[ConsentKind, bool],
    registered_at: datetime,
    expires_at: datetime,
    verification_event_id: int | None,
) -> list[dict[str, Any]]:
    """The ``consents`` rows of one :func:`record_consents` call, in ``choices`` order (also
    written by the card check's single-statement path, onshi.verification.lean_writes)."""
    return [
        {
            "person_id": person_id,
            "institution_id": institution_id,
            "verification_event_id": verification_event_id,
            "kind": kind,
            "value": ConsentValue.GIVEN if given else ConsentValue.NOT_GIVEN,
            "registered_at": registered_at,
            "expires_at": expires_at,
            "home_visit": False,
            "archived_at": None,
        }
        for kind, given in choices.items()
    ]


def consent_audit_entry(
    consent: Consent,
    *,
    actor_kind: ActorKind,
    actor_id: int | str | None,
    archived_previous: int,
) -> AuditEntry:
    """The audit entry of one recorded consent (``archived_previous``: how many grants of the
    kind it archived). The single-statement path fills ``object_id``, ``archived_previous`` and
    ``verification_event_id`` in SQL from the rows it writes (onshi.verification.lean_writes)."""
    return AuditEntry(
        actor_kind=actor_kind,
        actor_id=actor_id,
        action=CONSENT_RECORDED,
        object_type="consent",
        object_id=consent.id,
        person_id=consent.person_id,
        institution_id=consent.institution_id,
        details={
            "kind": consent.kind.value,
            "value": consent.value.value,
            "expires_at": consent.expires_at.isoformat() if consent.expires_at else None,
            "archived_previous": archived_previous,
            "verification_event_id": consent.verification_event_id,
        },
    )
