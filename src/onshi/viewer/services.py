"""The viewer's reads: gate, read, and the read's trace in the same transaction.

Each function asks :func:`onshi.viewer.gate.authorise` first. A refusal comes back as it is
(already logged by the gate). A grant is read, and the read leaves exactly one access-log row
(``data_access_log``: the patient sees it, with the viewer's role and what allowed it — the
consent and its expiry, the disaster declaration, or 救急時), one audit event
``viewer.viewed``, and for 救急時 one ``emergency_views`` row with the reason, waiting for the
institution administrator's review. Services flush, never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from sqlalchemy.orm import Session

from onshi.audit.models import ActorKind, DataAccess
from onshi.audit.services import record_audit, record_data_access
from onshi.clock import Clock, today_jst
from onshi.records.models import ClinicalCategory, ClinicalRecord, DrugRecord, HealthCheckRecord
from onshi.viewer.alerts import RECENT_DAYS, Alert, alerts_for
from onshi.viewer.gate import Grant, Refusal, Viewer, authorise
from onshi.viewer.kinds import AccessMode, ViewKind
from onshi.viewer.models import EmergencyView
from onshi.viewer.records import (
    DRUG_ROWS_MAX,
    DrugFilters,
    DrugMonth,
    PatientHeader,
    by_month,
    clinical_items,
    drug_history,
    health_checks,
    patient_header,
)

#: The drug page opens on this much history (the whole window is a link away).
RECENT_MONTHS: Final = timedelta(days=365)
#: Rows the alerts need: courses still running within their 100 days (a course is at most a
#: year long here).
ALERT_LOOKBACK: Final = timedelta(days=RECENT_DAYS + 366)


@dataclass(frozen=True)
class Opened:
    """A granted read: who it is about and what allowed it."""

    grant: Grant
    patient: PatientHeader
    access_id: int


@dataclass(frozen=True)
class DrugView(Opened):
    records: tuple[DrugRecord, ...]
    months: tuple[DrugMonth, ...]
    filters: DrugFilters
    truncated: bool
    alerts: tuple[Alert, ...]  # of the recent courses, whatever the filters
    recent_only: bool  # the default view: the last 12 months of the window


@dataclass(frozen=True)
class HealthCheckView(Opened):
    records: tuple[HealthCheckRecord, ...]  # oldest first


@dataclass(frozen=True)
class ClinicalView(Opened):
    records: tuple[ClinicalRecord, ...]
    category: ClinicalCategory | None


def _log_read(
    db: Session, clock: Clock, grant: Grant, details: dict[str, Any]
) -> tuple[DataAccess, PatientHeader]:
    patient = patient_header(db, grant.person_id)
    if patient is None:  # the gate found the person a moment ago, in this transaction
        raise RuntimeError("granted read of a person that does not exist")
    access = record_data_access(
        db,
        clock,
        person_id=grant.person_id,
        data_kind=grant.kind.data_kind,
        purpose=grant.mode.purpose,
        institution_id=grant.institution_id,
        staff_account_id=grant.viewer.account_id,
        basis=grant.basis,
    )
    if grant.mode is AccessMode.EMERGENCY and grant.emergency_reason:
        db.add(
            EmergencyView(
                access_id=access.id,
                institution_id=grant.institution_id,
                staff_account_id=grant.viewer.account_id,
                person_id=grant.person_id,
                reason=grant.emergency_reason,
                occurred_at=access.occurred_at,
            )
        )
        db.flush()
    record_audit(
        db,
        clock,
        actor_kind=ActorKind.STAFF,
        actor_id=grant.viewer.account_id,
        action="viewer.viewed",
        object_type=grant.kind.value,
        object_id=grant.person_id,
        person_id=grant.person_id,
        institution_id=grant.institution_id,
        details={
            "access_id": access.id,
            "mode": grant.mode.value,
            "consent_id": grant.consent_id,
            "surgery_consent_id": grant.surgery_consent_id,
            "disaster_declaration_id": grant.disaster_declaration_id,
            **details,
        },
    )
    return access, patient


def view_drugs(
    db: Session,
    clock: Clock,
    *,
    viewer: Viewer,
    person_id: int,
    mode: AccessMode = AccessMode.CONSENT,
    reason: str | None = None,
    filters: DrugFilters | None = None,
    whole_window: bool = False,
    view: str = "page",
) -> DrugView | Refusal:
    """薬剤情報 over the institution's drug-history years (``view``: page, fragment or print,
    recorded in the audit event)."""
    decision = authorise(
        db, clock, viewer=viewer, person_id=person_id, kind=ViewKind.DRUG, mode=mode, reason=reason
    )
    if isinstance(decision, Refusal):
        return decision
    asked = filters or DrugFilters()
    today = today_jst(clock)
    years = decision.options.drug_history_years
    # Without any filter the page opens on the last 12 months; the whole window (3 to 5 years)
    # is one link away (``whole_window``), and any filter searches the whole window.
    recent = not whole_window and asked == DrugFilters()
    shown = DrugFilters(since=today - RECENT_MONTHS) if recent else asked
    records = drug_history(db, person_id=person_id, today=today, years=years, filters=shown)
    # The alerts look at courses reaching into the last 100 days, whatever is displayed.
    alerts = alerts_for(
        drug_history(
            db, person_id=person_id, today=today, years=years,
            filters=DrugFilters(since=today - ALERT_LOOKBACK),
        ),
        today=today,
    )  # fmt: skip
    access, patient = _log_read(
        db,
        clock,
        decision,
        {
            "view": view,
            "rows": len(records),
            "alerts": len(alerts),
            "filters": asked.as_details(),
            "recent_only": recent,
        },
    )
    return DrugView(
        grant=decision,
        patient=patient,
        access_id=access.id,
        records=tuple(records),
        months=tuple(by_month(records)),
        filters=asked,
        truncated=len(records) >= DRUG_ROWS_MAX,
        alerts=tuple(alerts),
        recent_only=recent,
    )


def view_health_checks(
    db: Session,
    clock: Clock,
    *,
    viewer: Viewer,
    person_id: int,
    mode: AccessMode = AccessMode.CONSENT,
    reason: str | None = None,
    view: str = "page",
) -> HealthCheckView | Refusal:
    """特定健診情報: the last 5 years side by side."""
    decision = authorise(
        db,
        clock,
        viewer=viewer,
        person_id=person_id,
        kind=ViewKind.HEALTH_CHECK,
        mode=mode,
        reason=reason,
    )
    if isinstance(decision, Refusal):
        return decision
    records = health_checks(db, person_id=person_id, today=today_jst(clock))
    access, patient = _log_read(db, clock, decision, {"view": view, "rows": len(records)})
    return HealthCheckView(
        grant=decision, patient=patient, access_id=access.id, records=tuple(records)
    )


def view_clinical(
    db: Session,
    clock: Clock,
    *,
    viewer: Viewer,
    person_id: int,
    mode: AccessMode = AccessMode.CONSENT,
    reason: str | None = None,
    category: ClinicalCategory | None = None,
    view: str = "page",
) -> ClinicalView | Refusal:
    """診療情報: visits and procedures (no diagnoses); 手術 items only with their consent."""
    decision = authorise(
        db,
        clock,
        viewer=viewer,
        person_id=person_id,
        kind=ViewKind.CLINICAL,
        mode=mode,
        reason=reason,
    )
    if isinstance(decision, Refusal):
        return decision
    if category is ClinicalCategory.SURGERY and not decision.include_surgery:
        category = None
    records = clinical_items(
        db, person_id=person_id, include_surgery=decision.include_surgery, category=category
    )
    access, patient = _log_read(
        db,
        clock,
        decision,
        {
            "view": view,
            "rows": len(records),
            "surgery": decision.include_surgery,
            "category": None if category is None else category.value,
        },
    )
    return ClinicalView(
        grant=decision,
        patient=patient,
        access_id=access.id,
        records=tuple(records),
        category=category,
    )
