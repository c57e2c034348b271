"""Which of a person's records a read may show: the one place the windows are written, for the
patient portal and the institutions' viewer alike.

Every record belongs to a member record and reaches the person only through the one shown rule
(:func:`onshi.qualification.visibility.shown_member_ids`). 薬剤情報 covers ``years`` back (5 on
the portal; 3 to 5 in the viewer, per institution) and 電子処方箋 rows only their 100 days;
特定健診 covers 5 years. Each function returns the WHERE conditions (never a filter applied
in Python afterwards).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

from sqlalchemy import ColumnElement, or_

from onshi.clock import years_before
from onshi.qualification.visibility import shown_member_ids
from onshi.records.models import ClinicalRecord, DrugRecord, DrugSource, HealthCheckRecord

E_PRESCRIPTION_DAYS: Final = 100
HEALTH_CHECK_YEARS: Final = 5


def drug_window(person_id: int, today: date, years: int) -> list[ColumnElement[bool]]:
    return [
        DrugRecord.qualification_id.in_(shown_member_ids(person_id)),
        DrugRecord.dispensed_on >= years_before(today, years),
        or_(
            DrugRecord.source != DrugSource.E_PRESCRIPTION,
            DrugRecord.dispensed_on >= today - timedelta(days=E_PRESCRIPTION_DAYS),
        ),
    ]


def health_check_window(
    person_id: int, today: date, years: int = HEALTH_CHECK_YEARS
) -> list[ColumnElement[bool]]:
    return [
        HealthCheckRecord.qualification_id.in_(shown_member_ids(person_id)),
        HealthCheckRecord.checked_on >= years_before(today, years),
    ]


def clinical_of(person_id: int) -> list[ColumnElement[bool]]:
    return [ClinicalRecord.qualification_id.in_(shown_member_ids(person_id))]
