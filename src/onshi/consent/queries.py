"""Read queries over consents."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from onshi.consent.models import Consent, ConsentKind, ConsentValue

# Kinds that allow viewing data (限度額 is a provision choice, not a viewing consent).
VIEWING_KINDS: tuple[ConsentKind, ...] = (
    ConsentKind.HEALTH_CHECK,
    ConsentKind.DRUG,
    ConsentKind.CLINICAL,
    ConsentKind.SURGERY,
    ConsentKind.COMPREHENSIVE,
)


def valid_consent_clause(now: datetime) -> ColumnElement[bool]:
    return and_(
        Consent.value == ConsentValue.GIVEN,
        Consent.archived_at.is_(None),
        Consent.kind.in_(VIEWING_KINDS),
        or_(
            Consent.expires_at > now,
            and_(Consent.expires_at.is_(None), Consent.home_visit.is_(True)),
        ),
    )


def count_patients_with_valid_consent(db: Session, *, institution_id: int, now: datetime) -> int:
    """Patients who currently allow this institution to view at least one kind of data."""
    return int(
        db.scalar(
            select(func.count(func.distinct(Consent.person_id))).where(
                Consent.institution_id == institution_id,
                valid_consent_clause(now),
            )
        )
        or 0
    )


def current_consents(
    db: Session, *, person_id: int, institution_id: int, kinds: Sequence[ConsentKind]
) -> list[Consent]:
    """The person's consents at the institution of ``kinds`` that were not superseded or
    revoked (valid or not: :func:`onshi.consent.policies.strongest` picks the valid one)."""
    return list(
        db.scalars(
            select(Consent).where(
                Consent.person_id == person_id,
                Consent.institution_id == institution_id,
                Consent.kind.in_(list(kinds)),
                Consent.archived_at.is_(None),
            )
        )
    )


def has_consent_record(db: Session, *, person_id: int, institution_id: int) -> bool:
    """Whether the person ever answered a consent question at the institution (any kind,
    any value, archived ones included)."""
    return (
        db.scalar(
            select(Consent.id)
            .where(Consent.person_id == person_id, Consent.institution_id == institution_id)
            .limit(1)
        )
        is not None
    )
