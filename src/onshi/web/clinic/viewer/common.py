"""What every viewer controller shares: the session's principal as the gate's :class:`Viewer`,
the refusal page (or its htmx fragment), query parsing with specific messages, and the answer
to a role the route does not admit (the guard's 403, logged by the gate and explained)."""

from __future__ import annotations

from datetime import date
from typing import Any, Final

from litestar import Request
from litestar.datastructures import State
from litestar.response import Template
from sqlalchemy.orm import Session, sessionmaker

from onshi.accounts.schemas import Principal
from onshi.audit.models import ActorKind
from onshi.audit.services import record_audit
from onshi.clock import Clock
from onshi.errors import DomainError
from onshi.institutions.models import Institution, InstitutionKind
from onshi.viewer.gate import Refusal, RefusalReason, Viewer, authorise
from onshi.viewer.kinds import AccessMode, ViewKind
from onshi.web.htmx import page_or_fragment
from onshi.web.state import request_principal

REFUSED_PAGE: Final = "pages/clinic/viewer/refused.html"
REFUSED_FRAGMENT: Final = "partials/viewer/_refusal.html"
TEXT_MAX: Final = 64


class ViewerInputError(DomainError):
    code = "viewer.filter.date"


def viewer_of(principal: Principal) -> Viewer:
    return Viewer(
        account_id=principal.subject_id,
        role=principal.role,
        institution_id=principal.institution_id,
        emergency_permission=principal.emergency_permission,
    )


def emergency_possible(db: Session, principal: Principal) -> bool:
    """Whether the emergency form can be offered to this staff member (the gate decides)."""
    if not principal.emergency_permission or principal.institution_id is None:
        return False
    institution = db.get(Institution, principal.institution_id)
    return institution is not None and institution.kind is InstitutionKind.HOSPITAL


def refused(
    request: Request[Any, Any, Any],
    refusal: Refusal,
    *,
    person_id: int,
    emergency: bool = False,
) -> Template:
    """The refusal as a 403 page (or, for htmx, the fragment in place), saying why in the
    user's language with the other language beside it."""
    return page_or_fragment(
        request,
        page=REFUSED_PAGE,
        fragment=REFUSED_FRAGMENT,
        context={"refusal": refusal, "person_id": person_id, "emergency_link": emergency},
        status_code=403,
    )


def parse_mode(value: str | None) -> AccessMode:
    """``?mode=``: consent (default) or disaster. 救急時 is only ever asked through the
    emergency form (a POST with a reason)."""
    text = (value or "").strip()
    if text in {"", AccessMode.CONSENT.value}:
        return AccessMode.CONSENT
    if text == AccessMode.DISASTER.value:
        return AccessMode.DISASTER
    raise ViewerInputError("viewer.filter.mode")


def parse_text(value: str | None) -> str:
    return " ".join((value or "").split())[:TEXT_MAX]


def parse_date(value: str | None) -> date | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ViewerInputError("viewer.filter.date") from None


def role_refused(request: Request[Any, Any, Any], kind: ViewKind | None) -> Any:
    """A clinic role the route does not admit (the guard said no): the gate decides again, on
    its own transaction (the request's was never opened), so the refusal is logged like any
    other and explained the same way. Routes without a patient log ``viewer.refused`` only."""
    principal = request_principal(request)
    person_id = request.path_params.get("person_id")
    state: State = request.app.state
    factory: sessionmaker[Session] = state.session_factory
    clock: Clock = state.clock
    refusal = Refusal(RefusalReason.ROLE, kind or ViewKind.DRUG, AccessMode.CONSENT)
    if principal is None:
        return refused(request, refusal, person_id=0)
    with factory() as db:
        if kind is not None and isinstance(person_id, int):
            decision = authorise(
                db, clock, viewer=viewer_of(principal), person_id=person_id, kind=kind
            )
            if isinstance(decision, Refusal):  # a grant here would be a wiring mistake
                refusal = decision
        else:
            record_audit(
                db,
                clock,
                actor_kind=ActorKind.STAFF,
                actor_id=principal.subject_id,
                action="viewer.refused",
                object_type="viewer",
                object_id=request.url.path[:64],
                institution_id=principal.institution_id,
                details={"reason": RefusalReason.ROLE.value, "role": str(principal.role)},
            )
        db.commit()
    return refused(request, refusal, person_id=person_id if isinstance(person_id, int) else 0)
