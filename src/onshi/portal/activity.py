"""What others did with the patient's data: the consents given at readers (archived ones
included: a consent record is never deleted) and the access log (「誰に自分が見せたのか」:
institution, data kind, time and purpose, emergency and disaster views included)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from onshi.audit.models import AccessPurpose, DataAccess, DataKind
from onshi.clock import Clock
from onshi.consent.models import Consent, ConsentKind, ConsentValue
from onshi.institutions.models import Institution
from onshi.portal.paging import Page, PageRequest, fetch_rows


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


@dataclass(frozen=True)
class AccessView:
    id: int  # the access-log row (its transparency-log receipt: /me/access-log/{id}/receipt)
    occurred_at: datetime
    institution_name: str | None  # None: the patient themself
    data_kind: DataKind
    purpose: AccessPurpose


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
        select(DataAccess, Institution.name)
        .outerjoin(Institution, Institution.id == DataAccess.institution_id)
        .where(DataAccess.person_id == person_id)
    )
    if not include_self:
        query = query.where(DataAccess.purpose != AccessPurpose.SELF)
    rows = fetch_rows(db, query.order_by(DataAccess.occurred_at.desc(), DataAccess.id.desc()), page)
    return rows.map(
        lambda row: AccessView(
            id=row[0].id,
            occurred_at=row[0].occurred_at,
            institution_name=row[1],
            data_kind=row[0].data_kind,
            purpose=row[0].purpose,
        )
    )
