"""薬剤情報, 特定健診情報, 診療情報 and 医療費通知情報 as the patient sees them.

Every record belongs to a member record and reaches the person only through the one shown rule
(:func:`onshi.qualification.visibility.shown_member_ids`): records of a held, disputed or undone
member, or of another person's member, are not there (a 404 for one asked by id).

Every rule is in the query (never a filter in Python afterwards):
- drugs: the last 5 years; 電子処方箋 rows only for 100 days;
- health checks: the last 5 years;
- expenses: only once ``available_on`` (the 10th of the second month after care) has come.
Each read logs a ``self`` view and an audit event. A record of another person is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from onshi.audit.models import DataKind
from onshi.clock import Clock, today_jst
from onshi.errors import NotFoundError
from onshi.portal.access import log_self_view
from onshi.portal.paging import Page, PageRequest, fetch_page
from onshi.qualification.visibility import shown_member_ids
from onshi.records.models import (
    ClinicalRecord,
    DrugRecord,
    HealthCheckRecord,
    MedicalExpenseRecord,
)
from onshi.records.windows import (
    HEALTH_CHECK_YEARS,
    clinical_of,
    drug_window,
    health_check_window,
)

DRUG_YEARS = 5
CHART_POINTS_MAX = 20

T = TypeVar("T")


def _drug_window(person_id: int, today: date) -> list[ColumnElement[bool]]:
    return drug_window(person_id, today, DRUG_YEARS)


def _health_check_window(person_id: int, today: date) -> list[ColumnElement[bool]]:
    return health_check_window(person_id, today, HEALTH_CHECK_YEARS)


def _available_expenses(person_id: int, today: date) -> list[ColumnElement[bool]]:
    return [
        MedicalExpenseRecord.qualification_id.in_(shown_member_ids(person_id)),
        MedicalExpenseRecord.available_on <= today,
    ]


def _care_in_year(year: int) -> list[ColumnElement[bool]]:
    return [
        MedicalExpenseRecord.service_month >= date(year, 1, 1),
        MedicalExpenseRecord.service_month < date(year + 1, 1, 1),
    ]


def _viewed_page(
    db: Session,
    clock: Clock,
    query: Select[T],
    page: PageRequest,
    *,
    person_id: int,
    account_id: int,
    kind: DataKind,
    details: dict[str, object],
) -> Page[T]:
    """One page of the person's records, with the ``self`` view logged."""
    result = fetch_page(db, query, page)
    log_self_view(db, clock, person_id=person_id, account_id=account_id, kind=kind, details=details)
    return result


def _viewed_record(
    db: Session,
    clock: Clock,
    query: Select[T],
    *,
    person_id: int,
    account_id: int,
    kind: DataKind,
    record_id: int,
    missing: str,
) -> T:
    """The one record the query finds (none: 404 naming ``missing``), with the view logged."""
    record = db.scalar(query)
    if record is None:
        raise NotFoundError(object=missing)
    log_self_view(
        db,
        clock,
        person_id=person_id,
        account_id=account_id,
        kind=kind,
        details={"record_id": record_id},
    )
    return record


def list_drugs(
    db: Session, clock: Clock, *, person_id: int, account_id: int, page: PageRequest
) -> Page[DrugRecord]:
    today = today_jst(clock)
    return _viewed_page(
        db,
        clock,
        select(DrugRecord)
        .where(and_(*_drug_window(person_id, today)))
        .order_by(DrugRecord.dispensed_on.desc(), DrugRecord.id.desc()),
        page,
        person_id=person_id,
        account_id=account_id,
        kind=DataKind.DRUG,
        details={"page": page.page},
    )


def get_drug(
    db: Session, clock: Clock, *, person_id: int, account_id: int, record_id: int
) -> DrugRecord:
    """One drug record of this person (another person's id, or one outside the window: 404)."""
    today = today_jst(clock)
    return _viewed_record(
        db,
        clock,
        select(DrugRecord).where(DrugRecord.id == record_id, *_drug_window(person_id, today)),
        person_id=person_id,
        account_id=account_id,
        kind=DataKind.DRUG,
        record_id=record_id,
        missing="drug_record",
    )


def list_health_checks(
    db: Session, clock: Clock, *, person_id: int, account_id: int, page: PageRequest
) -> Page[HealthCheckRecord]:
    today = today_jst(clock)
    return _viewed_page(
        db,
        clock,
        select(HealthCheckRecord)
        .where(*_health_check_window(person_id, today))
        .order_by(HealthCheckRecord.checked_on.desc(), HealthCheckRecord.id.desc()),
        page,
        person_id=person_id,
        account_id=account_id,
        kind=DataKind.HEALTH_CHECK,
        details={"page": page.page},
    )


@dataclass(frozen=True)
class TrendPoint:
    checked_on: date
    hba1c: float | None
    bmi: float | None


def health_check_trend(db: Session, clock: Clock, *, person_id: int) -> tuple[TrendPoint, ...]:
    """HbA1c and BMI over the 5-year window, oldest first (for the chart and its table twin).
    Called together with :func:`list_health_checks`, whose view log covers it."""
    today = today_jst(clock)
    rows = db.execute(
        select(HealthCheckRecord.checked_on, HealthCheckRecord.hba1c, HealthCheckRecord.bmi)
        .where(
            *_health_check_window(person_id, today),
            or_(HealthCheckRecord.hba1c.is_not(None), HealthCheckRecord.bmi.is_not(None)),
        )
        .order_by(HealthCheckRecord.checked_on.desc())
        .limit(CHART_POINTS_MAX)
    ).all()
    return tuple(TrendPoint(row[0], row[1], row[2]) for row in reversed(rows))


def get_health_check(
    db: Session, clock: Clock, *, person_id: int, account_id: int, record_id: int
) -> HealthCheckRecord:
    today = today_jst(clock)
    return _viewed_record(
        db,
        clock,
        select(HealthCheckRecord).where(
            HealthCheckRecord.id == record_id, *_health_check_window(person_id, today)
        ),
        person_id=person_id,
        account_id=account_id,
        kind=DataKind.HEALTH_CHECK,
        record_id=record_id,
        missing="health_check_record",
    )


def list_clinical(
    db: Session, clock: Clock, *, person_id: int, account_id: int, page: PageRequest
) -> Page[ClinicalRecord]:
    return _viewed_page(
        db,
        clock,
        select(ClinicalRecord)
        .where(*clinical_of(person_id))
        .order_by(ClinicalRecord.visit_on.desc(), ClinicalRecord.id.desc()),
        page,
        person_id=person_id,
        account_id=account_id,
        kind=DataKind.CLINICAL,
        details={"page": page.page},
    )


@dataclass(frozen=True)
class ExpenseTotals:
    year: int
    records: int
    total_yen: int
    patient_paid_yen: int


def list_expenses(
    db: Session,
    clock: Clock,
    *,
    person_id: int,
    account_id: int,
    page: PageRequest,
    year: int | None = None,
) -> Page[MedicalExpenseRecord]:
    conditions = _available_expenses(person_id, today_jst(clock))
    if year is not None:
        conditions += _care_in_year(year)
    return _viewed_page(
        db,
        clock,
        select(MedicalExpenseRecord)
        .where(*conditions)
        .order_by(MedicalExpenseRecord.service_month.desc(), MedicalExpenseRecord.id.desc()),
        page,
        person_id=person_id,
        account_id=account_id,
        kind=DataKind.EXPENSE,
        details={"page": page.page, "year": year},
    )


def expense_totals(db: Session, clock: Clock, *, person_id: int, year: int) -> ExpenseTotals:
    """Sums for one calendar year of care (for the 医療費控除 return), in SQL."""
    today = today_jst(clock)
    row = db.execute(
        select(
            func.count(MedicalExpenseRecord.id),
            func.coalesce(func.sum(MedicalExpenseRecord.total_yen), 0),
            func.coalesce(func.sum(MedicalExpenseRecord.patient_paid_yen), 0),
        ).where(*_available_expenses(person_id, today), *_care_in_year(year))
    ).one()
    return ExpenseTotals(
        year=year, records=int(row[0]), total_yen=int(row[1]), patient_paid_yen=int(row[2])
    )


def expense_years(db: Session, clock: Clock, *, person_id: int) -> tuple[int, ...]:
    """The calendar years of care with at least one available expense record, newest first."""
    today = today_jst(clock)
    months = db.scalars(
        select(MedicalExpenseRecord.service_month)
        .where(*_available_expenses(person_id, today))
        .group_by(MedicalExpenseRecord.service_month)
        .order_by(MedicalExpenseRecord.service_month.desc())
    )
    years: list[int] = []
    for month in months:
        if not years or years[-1] != month.year:
            years.append(month.year)
    return tuple(years)
