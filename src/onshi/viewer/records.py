"""Read models of the viewer: one person's 薬剤情報, 特定健診情報 and 診療情報 as a qualified
staff member sees them. Only :mod:`onshi.viewer.services` calls these, with a :class:`Grant`
from the gate; every window and filter is in the query (:mod:`onshi.records.windows`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from onshi.identity.models import Person, Sex
from onshi.records.models import (
    ClinicalCategory,
    ClinicalRecord,
    DrugRecord,
    DrugSource,
    HealthCheckRecord,
)
from onshi.records.windows import clinical_of, drug_window, health_check_window

DRUG_ROWS_MAX: Final = 3000
HEALTH_CHECKS_SHOWN: Final = 5
CLINICAL_ROWS_MAX: Final = 1000
FILTER_TEXT_MAX: Final = 64


@dataclass(frozen=True)
class PatientHeader:
    person_id: int
    name: str
    kana: str
    birth_date: date
    sex: Sex


def patient_header(db: Session, person_id: int) -> PatientHeader | None:
    person = db.get(Person, person_id)
    if person is None:
        return None
    return PatientHeader(
        person_id=person.id,
        name=f"{person.family_name}\u3000{person.given_name}",
        kana=f"{person.family_name_kana}\u3000{person.given_name_kana}",
        birth_date=person.birth_date,
        sex=person.sex,
    )


@dataclass(frozen=True)
class DrugFilters:
    """Search and filters of the drug page (blank: everything in the window)."""

    drug: str = ""  # part of the drug name
    institution: str = ""  # part of the dispensing or prescribing institution's name
    source: DrugSource | None = None
    since: date | None = None
    until: date | None = None

    def as_details(self) -> dict[str, str | None]:
        """For the audit event (what was asked, no personal data)."""
        return {
            "drug": self.drug or None,
            "institution": self.institution or None,
            "source": None if self.source is None else self.source.value,
            "since": None if self.since is None else self.since.isoformat(),
            "until": None if self.until is None else self.until.isoformat(),
        }


@dataclass(frozen=True)
class DrugMonth:
    """The rows dispensed in one month (``month``: its first day), newest first."""

    month: date
    rows: tuple[DrugRecord, ...]


def drug_history(
    db: Session, *, person_id: int, today: date, years: int, filters: DrugFilters
) -> list[DrugRecord]:
    """The person's drug rows in the window, newest first (at most :data:`DRUG_ROWS_MAX`)."""
    conditions = drug_window(person_id, today, years)
    if filters.drug:
        conditions.append(DrugRecord.drug_name.icontains(filters.drug, autoescape=True))
    if filters.institution:
        conditions.append(
            DrugRecord.institution_name.icontains(filters.institution, autoescape=True)
            | DrugRecord.prescribing_institution_name.icontains(
                filters.institution, autoescape=True
            )
        )
    if filters.source is not None:
        conditions.append(DrugRecord.source == filters.source)
    if filters.since is not None:
        conditions.append(DrugRecord.dispensed_on >= filters.since)
    if filters.until is not None:
        conditions.append(DrugRecord.dispensed_on <= filters.until)
    return list(
        db.scalars(
            select(DrugRecord)
            .where(*conditions)
            .order_by(DrugRecord.dispensed_on.desc(), DrugRecord.id.desc())
            .limit(DRUG_ROWS_MAX)
        )
    )


def by_month(records: Sequence[DrugRecord]) -> list[DrugMonth]:
    """Rows (newest first) grouped by dispensing month, newest month first."""
    months: list[DrugMonth] = []
    current: list[DrugRecord] = []
    key: date | None = None
    for record in records:
        month = record.dispensed_on.replace(day=1)
        if month != key and current and key is not None:
            months.append(DrugMonth(key, tuple(current)))
            current = []
        key = month
        current.append(record)
    if current and key is not None:
        months.append(DrugMonth(key, tuple(current)))
    return months


def health_checks(db: Session, *, person_id: int, today: date) -> list[HealthCheckRecord]:
    """The person's last :data:`HEALTH_CHECKS_SHOWN` checkups in the 5-year window, oldest
    first (the columns of the side-by-side table)."""
    rows = list(
        db.scalars(
            select(HealthCheckRecord)
            .where(*health_check_window(person_id, today))
            .order_by(HealthCheckRecord.checked_on.desc(), HealthCheckRecord.id.desc())
            .limit(HEALTH_CHECKS_SHOWN)
        )
    )
    rows.reverse()
    return rows


def clinical_items(
    db: Session,
    *,
    person_id: int,
    include_surgery: bool,
    category: ClinicalCategory | None = None,
) -> list[ClinicalRecord]:
    """The person's visits and procedures, newest first; 手術 items only when allowed."""
    conditions = clinical_of(person_id)
    if not include_surgery:
        conditions.append(ClinicalRecord.category != ClinicalCategory.SURGERY)
    if category is not None:
        conditions.append(ClinicalRecord.category == category)
    return list(
        db.scalars(
            select(ClinicalRecord)
            .where(*conditions)
            .order_by(ClinicalRecord.visit_on.desc(), ClinicalRecord.id.desc())
            .limit(CLINICAL_ROWS_MAX)
        )
    )
