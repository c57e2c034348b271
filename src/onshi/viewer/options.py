"""Each institution's viewer settings: which data kinds its readers offer (the consent
questions asked and the pages its viewer opens), how many years of drug history it shows, and
whether a pharmacy may view 特定健診 information.

Defaults (an institution that never saved its settings): 薬剤情報 and 特定健診情報 offered,
診療情報 and 手術情報 not, 3 years of drug history (the minimum; up to 5), no health-check
viewing at pharmacies (pharmacies started without it). Saving writes an audit event in the
caller's transaction; services flush, never commit.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy.orm import Session

from onshi.audit.models import ActorKind
from onshi.audit.services import record_audit
from onshi.clock import Clock
from onshi.errors import DomainError
from onshi.viewer.kinds import ViewKind
from onshi.viewer.models import MAX_DRUG_YEARS, MIN_DRUG_YEARS, ViewerSettings


class ViewerOptionsError(DomainError):
    code = "viewer.settings.invalid"


@dataclass(frozen=True)
class ViewerOptions:
    offer_drug: bool = True
    offer_health_check: bool = True
    offer_clinical: bool = False
    offer_surgery: bool = False
    drug_history_years: int = MIN_DRUG_YEARS
    pharmacy_health_check: bool = False

    def offers(self, kind: ViewKind) -> bool:
        """Whether the institution's readers offer ``kind`` (手術情報 is offered separately:
        see :attr:`offer_surgery`)."""
        return {
            ViewKind.DRUG: self.offer_drug,
            ViewKind.HEALTH_CHECK: self.offer_health_check,
            ViewKind.CLINICAL: self.offer_clinical,
        }[kind]


DEFAULT_OPTIONS = ViewerOptions()


def _options(row: ViewerSettings) -> ViewerOptions:
    return ViewerOptions(
        offer_drug=row.offer_drug,
        offer_health_check=row.offer_health_check,
        offer_clinical=row.offer_clinical,
        offer_surgery=row.offer_surgery,
        drug_history_years=row.drug_history_years,
        pharmacy_health_check=row.pharmacy_health_check,
    )


def viewer_options(db: Session, institution_id: int) -> ViewerOptions:
    row = db.get(ViewerSettings, institution_id)
    return DEFAULT_OPTIONS if row is None else _options(row)


def parse_drug_years(value: str | int | None) -> int:
    """3 to 5 years, else ``viewer.settings.drug_years`` (changes nothing)."""
    text = str(value if value is not None else "").strip()
    if not text.isdigit() or not MIN_DRUG_YEARS <= int(text) <= MAX_DRUG_YEARS:
        raise ViewerOptionsError(
            "viewer.settings.drug_years", low=MIN_DRUG_YEARS, high=MAX_DRUG_YEARS
        )
    return int(text)


def save_viewer_options(
    db: Session,
    clock: Clock,
    *,
    institution_id: int,
    staff_account_id: int,
    options: ViewerOptions,
) -> ViewerOptions:
    """Store the institution's settings (audited ``viewer.settings_changed`` with before and
    after). Surgery information is part of 診療情報: offering it needs clinical offered."""
    if not MIN_DRUG_YEARS <= options.drug_history_years <= MAX_DRUG_YEARS:
        raise ViewerOptionsError(
            "viewer.settings.drug_years", low=MIN_DRUG_YEARS, high=MAX_DRUG_YEARS
        )
    if options.offer_surgery and not options.offer_clinical:
        raise ViewerOptionsError("viewer.settings.surgery_needs_clinical")
    now = clock.now()
    row = db.get(ViewerSettings, institution_id)
    before = DEFAULT_OPTIONS if row is None else _options(row)
    if row is None:
        row = ViewerSettings(institution_id=institution_id, updated_at=now)
        db.add(row)
    for name, value in asdict(options).items():
        setattr(row, name, value)
    row.updated_at = now
    row.updated_by_staff_id = staff_account_id
    db.flush()
    record_audit(
        db,
        clock,
        actor_kind=ActorKind.STAFF,
        actor_id=staff_account_id,
        action="viewer.settings_changed",
        object_type="institution",
        object_id=institution_id,
        institution_id=institution_id,
        details={"before": asdict(before), "after": asdict(options)},
    )
    return options
