"""The institution's patients whose consent lets its qualified staff view something now, with
the time left (the consent rule is :func:`onshi.consent.queries.valid_consent_clause`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from onshi.consent.models import Consent, ConsentKind
from onshi.consent.queries import valid_consent_clause
from onshi.identity.models import Person

PATIENTS_MAX: Final = 200


@dataclass(frozen=True)
class ConsentedPatient:
    person_id: int
    name: str
    kana: str
    birth_date: date
    kinds: tuple[ConsentKind, ...]
    expires_at: datetime | None  # the last of the valid consents to lapse; None: 居宅 (home visit)
    remaining: timedelta | None

    @property
    def remaining_hours_minutes(self) -> tuple[int, int]:
        seconds = int(self.remaining.total_seconds()) if self.remaining else 0
        return seconds // 3600, seconds % 3600 // 60


def patients_with_valid_consent(
    db: Session, *, institution_id: int, now: datetime
) -> list[ConsentedPatient]:
    """One entry per patient, the consent lapsing soonest first (home-visit ones last)."""
    rows = db.execute(
        select(
            Consent.person_id,
            Consent.kind,
            Consent.expires_at,
            Person.family_name,
            Person.given_name,
            Person.family_name_kana,
            Person.given_name_kana,
            Person.birth_date,
        )
        .join(Person, Person.id == Consent.person_id)
        .where(Consent.institution_id == institution_id, valid_consent_clause(now))
        .order_by(Consent.person_id)
        .limit(PATIENTS_MAX * 6)
    ).all()
    found: dict[int, ConsentedPatient] = {}
    for row in rows:
        before = found.get(row.person_id)
        kinds = (*before.kinds, row.kind) if before else (row.kind,)
        expires: datetime | None = row.expires_at
        if before is not None and (before.expires_at is None or expires is None):
            expires = None
        elif before is not None and before.expires_at is not None and expires is not None:
            expires = max(before.expires_at, expires)
        found[row.person_id] = ConsentedPatient(
            person_id=row.person_id,
            name=f"{row.family_name}\u3000{row.given_name}",
            kana=f"{row.family_name_kana}\u3000{row.given_name_kana}",
            birth_date=row.birth_date,
            kinds=tuple(sorted(set(kinds))),
            expires_at=expires,
            remaining=None if expires is None else expires - now,
        )
    ordered = sorted(
        found.values(),
        key=lambda p: (p.expires_at is None, p.expires_at or now, p.person_id),
    )
    return ordered[:PATIENTS_MAX]
