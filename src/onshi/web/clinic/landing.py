"""The institution's landing page: today's verifications, latest events, readers, consents."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import SkipValidation
from litestar.response import Template
from sqlalchemy.orm import Session

from onshi.accounts.schemas import Principal
from onshi.clock import JST, Clock, today_jst
from onshi.consent.queries import count_patients_with_valid_consent
from onshi.devices.queries import institution_devices
from onshi.errors import NotFoundError
from onshi.institutions.queries import get_institution
from onshi.verification.queries import count_events, recent_events
from onshi.web.htmx import page_or_fragment

RECENT_EVENTS = 10


def jst_day_bounds(clock: NamedDependency[SkipValidation[Clock]]) -> tuple[datetime, datetime]:
    """Start and end (exclusive) of today in Japan, as aware datetimes."""
    start = datetime.combine(today_jst(clock), time.min, tzinfo=JST)
    return start, start + timedelta(days=1)


@get("/", name="clinic-landing", sync_to_thread=True)
def clinic_landing(
    request: Request[Any, Any, Any],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template:
    if principal.institution_id is None:  # excluded by a DB constraint for clinic roles
        raise NotFoundError()
    institution = get_institution(db, principal.institution_id)
    start, end = jst_day_bounds(clock)
    context: dict[str, Any] = {
        "institution": institution,
        "today_count": count_events(db, since=start, until=end, institution_id=institution.id),
        "events": recent_events(db, institution_id=institution.id, limit=RECENT_EVENTS),
        "devices": institution_devices(db, institution.id),
        "valid_consents": (
            count_patients_with_valid_consent(db, institution_id=institution.id, now=clock.now())
            if principal.is_qualified
            else None
        ),
    }
    return page_or_fragment(
        request,
        page="pages/clinic/landing.html",
        fragment="partials/verification/_recent_events.html",
        context=context,
    )
