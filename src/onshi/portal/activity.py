"""What others did with the patient's data: the consents given at readers (archived ones
included: a consent record is never deleted) and the access log (「誰に自分が見せたのか」:
institution, data kind, time and purpose, emergency and disaster views included)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from onshi.audit.models import AccessPurpose, DataAccess, DataKind
from onshi.clock import Clock
from onshi.consent.models import Consent, ConsentKind, ConsentValue
from onshi.institutions.models import Institution
from onshi.portal.paging import Page, PageRequest, fetch_rows
from onshi.verification.models import VerificationEvent, VerificationMethod
from onshi.viewer.models import EmergencyView


class ConsentState(StrEnum):
    ACTIVE = "active"  # 同意あり, within its period
    EXPIRED = "expired"
    REFUSED = "refused"  # 同意なし / 同意取得困難
    ARCHIVED = "archived"  # superseded or revoked


@dataclass(frozen=True)
class ConsentView:
    id: int
    institution_name: str
    kind: ConsentKind
    value: ConsentValue
    registered_at: datetime
    expires_at: datetime | None
    home_visit: bool
    state: ConsentState


#: What allowed a ``normal`` access that came with a verification, by the verification's method:
#: the patient's own card (and how they confirmed it), not a consent. A ``normal`` access
#: without one of these is a view under the patient's consent. The one place the access log's
#: purpose labels are chosen (``portal.purpose.<basis>`` in messages.toml).
VERIFICATION_BASIS: dict[VerificationMethod, str] = {
    VerificationMethod.CARD_PIN: "card_pin",
    VerificationMethod.CARD_FACE: "card_face",
    VerificationMethod.CARD_VISUAL: "card_visual",
    VerificationMethod.SMARTPHONE: "smartphone",
}


def access_basis(purpose: AccessPurpose, method: VerificationMethod | None) -> str:
    """The label key suffix saying what actually allowed an access."""
    if purpose is AccessPurpose.NORMAL and method is not None:
        return VERIFICATION_BASIS.get(method, purpose.value)
    return purpose.value


@dataclass(frozen=True)
class AccessView:
    id: int  # the access-log row (its transparency-log receipt: /me/access-log/{id}/receipt)
    occurred_at: datetime
    institution_name: str | None  # None: the patient themself
    data_kind: DataKind
    purpose: AccessPurpose
    basis: str = ""  # what allowed it: access_basis()
    # A viewer read (institutions' staff): the viewer's role, and what allowed it — the consent
    # and how long it still had to run at that moment, or the 救急時 reason (flagged), or the
    # 災害時 declaration. None on other rows.
    staff_role: str | None = None
    consent_id: int | None = None
    consent_remaining: timedelta | None = None
    emergency_reason: str | None = None
    disaster_declaration_id: int | None = None

    @property
    def consent_remaining_hours_minutes(self) -> tuple[int, int]:
        seconds = int(self.consent_remaining.total_seconds()) if self.consent_remaining else 0
        return seconds // 3600, seconds % 3600 // 60

    @property
    def flagged(self) -> bool:
        """A view without consent (救急時, 災害時): marked for the patient."""
        return self.purpose in {AccessPurpose.EMERGENCY, AccessPurpose.DISASTER}


def list_consents(
    db: Session, clock: Clock, *, person_id: int, page: PageRequest
) -> Page[ConsentView]:
    now = clock.now()
    rows = fetch_rows(
        db,
        select(Consent, Institution.name)
        .join(Institution, Institution.id == Consent.institution_id)
        .where(Consent.person_id == person_id)
        .order_by(Consent.registered_at.desc(), Consent.id.desc()),
        page,
    )
    return rows.map(lambda row: _consent_view(row[0], row[1], now))


def _consent_view(consent: Consent, institution_name: str, now: datetime) -> ConsentView:
    if consent.archived_at is not None:
        state = ConsentState.ARCHIVED
    elif consent.value is not ConsentValue.GIVEN:
        state = (
            ConsentState.EXPIRED if consent.value is ConsentValue.EXPIRED else ConsentState.REFUSED
        )
    elif consent.expires_at is not None and consent.expires_at <= now:
        state = ConsentState.EXPIRED
    else:
        state = ConsentState.ACTIVE
    return ConsentView(
        id=consent.id,
        institution_name=institution_name,
        kind=consent.kind,
        value=consent.value,
        registered_at=consent.registered_at,
        expires_at=consent.expires_at,
        home_visit=consent.home_visit,
        state=state,
    )


def list_access_log(
    db: Session, *, person_id: int, page: PageRequest, include_self: bool = False
) -> Page[AccessView]:
    """Views of the person's data, newest first. The patient's own views are left out unless
    asked for (in the query)."""
    query = (
        select(DataAccess, Institution.name, VerificationEvent.method, EmergencyView.reason)
        .outerjoin(Institution, Institution.id == DataAccess.institution_id)
        .outerjoin(VerificationEvent, VerificationEvent.id == DataAccess.verification_event_id)
        .outerjoin(EmergencyView, EmergencyView.access_id == DataAccess.id)
        .where(DataAccess.person_id == person_id)
    )
    if not include_self:
        query = query.where(DataAccess.purpose != AccessPurpose.SELF)
    rows = fetch_rows(db, query.order_by(DataAccess.occurred_at.desc(), DataAccess.id.desc()), page)
    return rows.map(lambda row: _access_view(row[0], row[1], row[2], row[3]))


def _access_view(
    access: DataAccess,
    institution_name: str | None,
    method: VerificationMethod | None,
    emergency_reason: str | None,
) -> AccessView:
    remaining = None
    if access.consent_id is not None and access.consent_expires_at is not None:
        remaining = max(access.consent_expires_at - access.occurred_at, timedelta(0))
    return AccessView(
        id=access.id,
        occurred_at=access.occurred_at,
        institution_name=institution_name,
        data_kind=access.data_kind,
        purpose=access.purpose,
        basis=access_basis(access.purpose, method),
        staff_role=access.staff_role,
        consent_id=access.consent_id,
        consent_remaining=remaining,
        emergency_reason=emergency_reason,
        disaster_declaration_id=access.disaster_declaration_id,
    )
