"""The insurer's landing page: members, 5-item check results, the 5-day deadline."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import SkipValidation
from litestar.response import Template
from sqlalchemy.orm import Session

from onshi.accounts.schemas import Principal
from onshi.clock import Clock, today_jst
from onshi.errors import NotFoundError
from onshi.qualification import queries
from onshi.verification.queries import count_held_card_checks
from onshi.web.rendering import render

RECENT_DAYS = 5


@get("/", name="insurer-landing", sync_to_thread=True)
def insurer_landing(
    request: Request[Any, Any, Any],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template:
    if principal.insurer_id is None:  # excluded by a DB constraint for insurer operators
        raise NotFoundError()
    insurer = queries.get_insurer(db, principal.insurer_id)
    since = clock.now() - timedelta(days=RECENT_DAYS)
    return render(
        request,
        "pages/insurer/landing.html",
        {
            "insurer": insurer,
            "active_members": queries.count_active_members(
                db, insurer_id=insurer.id, today=today_jst(clock)
            ),
            "five_item": queries.link_status_counts(db, insurer_id=insurer.id),
            "failed": queries.held_members(db, insurer_id=insurer.id),
            "held_card_checks": count_held_card_checks(db, insurer_id=insurer.id, since=since),
            "recent_days": RECENT_DAYS,
            "recent_count": queries.count_registered_since(db, insurer_id=insurer.id, since=since),
            "recent": queries.recent_registrations(db, insurer_id=insurer.id, since=since),
            "late_count": queries.count_late_registrations(db, insurer_id=insurer.id),
            "late": queries.late_registrations(db, insurer_id=insurer.id),
            "deadline_days": queries.REGISTRATION_DEADLINE_DAYS,
        },
    )
