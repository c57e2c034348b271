"""Authorisation of EVERY viewer route, for every role, for another institution's staff and for
a held member. The routes are read from the app's own routing table (every path under
/clinic/viewer…), so a route added later is covered without touching this file — and one this
file does not know how to call fails the test."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from onshi.accounts.models import StaffRole, SubjectKind
from onshi.accounts.services import create_session
from onshi.audit.models import DataAccess
from onshi.clock import FrozenClock
from onshi.consent.models import ConsentKind
from onshi.identity.models import Person
from onshi.institutions.models import InstitutionKind
from onshi.qualification.models import LinkStatus
from onshi.records.models import ClinicalCategory
from onshi.viewer.models import EmergencyView
from tests.factories import (
    make_clinical_record,
    make_consent,
    make_drug_record,
    make_health_check_record,
    make_institution,
    make_patient_account,
    make_person,
    make_qualification,
    make_staff_account,
    make_viewer_settings,
)
from tests.integration.viewer.conftest import POLICY
from tests.integration.web.web_helpers import csrf_from

MARK_DRUG = "認可確認用錠10mg"
MARK_CLINICAL = "認可確認用処置"
MARK_HEALTH = "認可確認健診センター"
MARK_HELD = "保留中の薬5mg"
PREFIX = "/clinic/viewer"
# Every principal: each staff role, a patient, and nobody.
PRINCIPALS = [*(role.value for role in StaffRole), "patient", "anonymous"]
QUALIFIED = {"doctor", "dentist", "pharmacist"}


@dataclass
class World:
    consented: Person  # comprehensive consent at the hospital, records with markers
    held: Person  # a consent at the hospital, but the member's link is held
    emergency_view_id: int


def _world(db: Session, clock: FrozenClock) -> tuple[World, Any, Any]:
    hospital = make_institution(db, kind=InstitutionKind.HOSPITAL)
    other = make_institution(db, kind=InstitutionKind.HOSPITAL)
    for institution in (hospital, other):
        make_viewer_settings(db, institution, offer_clinical=True, offer_surgery=True)
    consented = make_person(db)
    make_qualification(db, consented)
    make_drug_record(db, consented, drug_name=MARK_DRUG)
    make_clinical_record(
        db, consented, item_name=MARK_CLINICAL, category=ClinicalCategory.PROCEDURE
    )
    make_health_check_record(db, consented, institution_name=MARK_HEALTH)
    make_consent(db, consented, hospital, kind=ConsentKind.COMPREHENSIVE)
    held = make_person(db)
    member = make_qualification(db, held, link_status=LinkStatus.HELD)
    make_drug_record(db, held, qualification_id=member.id, drug_name=MARK_HELD)
    make_consent(db, held, hospital, kind=ConsentKind.COMPREHENSIVE)
    # one emergency view waiting for review (for the review route's id)
    access = DataAccess(
        person_id=consented.id,
        institution_id=hospital.id,
        data_kind="drug",
        purpose="emergency",
        occurred_at=clock.now(),
    )
    db.add(access)
    db.flush()
    review = EmergencyView(
        access_id=access.id,
        institution_id=hospital.id,
        person_id=consented.id,
        reason="テスト",
        occurred_at=access.occurred_at,
    )
    db.add(review)
    db.flush()
    return World(consented, held, review.id), hospital, other


def _viewer_routes(app: Litestar) -> list[tuple[str, str]]:
    found = []
    for route in app.routes:
        if not (route.path == PREFIX or route.path.startswith((f"{PREFIX}/", f"{PREFIX}-"))):
            continue
        for method in sorted(getattr(route, "methods", set()) - {"HEAD", "OPTIONS"}):
            found.append((method, route.path))
    return sorted(found)


def _path(template: str, person: Person, world: World) -> str:
    path = template.replace("{person_id:int}", str(person.id))
    path = path.replace("{view_id:int}", str(world.emergency_view_id))
    assert "{" not in path, f"the test does not know how to call {template}"
    return path


def _sign_in(
    client: TestClient[Litestar], db: Session, clock: FrozenClock, who: str, institution: Any
) -> str:
    """Sign ``who`` in (a fresh session) and return a CSRF token of that session."""
    client.cookies.clear()
    if who == "anonymous":
        return csrf_from(client.get("/clinic/sign-in").text)
    if who == "patient":
        account = make_patient_account(db)
        kind, subject = SubjectKind.PATIENT, account.id
        landing = "/me"
    else:
        role = StaffRole(who)
        staff = make_staff_account(
            db,
            role,
            institution if role.value in QUALIFIED | {"reception"} else None,
            is_institution_admin=role.value in QUALIFIED | {"reception"},
        )
        kind, subject = SubjectKind.STAFF, staff.id
        landing = {"insurer_operator": "/insurer", "administrator": "/admin"}.get(who, "/clinic")
    issued = create_session(db, clock, POLICY, subject_kind=kind, subject_id=subject)
    db.commit()
    client.cookies.set("onshi_session", issued.token)
    page = client.get(landing)
    assert page.status_code == 200, (who, landing, page.status_code)
    return csrf_from(page.text)


def _call(client: TestClient[Litestar], method: str, path: str, token: str) -> Any:
    if method == "GET":
        return client.get(path, follow_redirects=False)
    data = {"csrf_token": token, "kind": "drug", "reason": "認可テスト", "note": "確認"}
    if path.endswith("viewer-settings"):
        flags = ("offer_drug", "offer_health_check", "offer_clinical", "offer_surgery")
        data.update({**dict.fromkeys(flags, "1"), "drug_years": "3"})
    return client.post(path, data=data, follow_redirects=False)


def _expected_ok(who: str, method: str, template: str, *, own: bool, held: bool) -> bool:
    """Which calls may succeed: qualified staff of the institution where the consent was given
    (reads of the consented person; the list; the emergency form), and the institution
    administrator's pages for its own staff. Everything else is refused."""
    if who not in QUALIFIED | {"reception"}:
        return False
    admin_page = template.startswith(f"{PREFIX}-")
    if admin_page:  # settings and reviews: the institution administrator (any clinic role)
        if template.endswith("{view_id:int}"):
            return own  # another institution's review id is a 404
        return True
    if who == "reception":
        return False
    if template == PREFIX:
        return True  # the list of the reader's own institution
    if template.endswith("/emergency"):
        # the form shows without data; the POST is refused (no emergency permission)
        return method == "GET"
    return own and not held


@pytest.mark.parametrize("who", PRINCIPALS)
def test_every_viewer_route_for_every_principal(
    web_app: Litestar,
    client: TestClient[Litestar],
    db: Session,
    clock: FrozenClock,
    who: str,
) -> None:
    routes = _viewer_routes(web_app)
    assert len(routes) >= 11  # the viewer's pages, print view, emergency, settings, reviews
    world, hospital, other = _world(db, clock)
    db.commit()
    for where, own in ((hospital, True), (other, False)):
        for person, held in ((world.consented, False), (world.held, True)):
            for method, template in routes:
                token = _sign_in(client, db, clock, who, where)
                review = db.get(EmergencyView, world.emergency_view_id)
                assert review is not None
                review.reviewed_at = None  # each review call meets a view still to review
                db.commit()
                path = _path(template, person, world)
                before = db.scalar(select(DataAccess.id).order_by(DataAccess.id.desc()).limit(1))
                answer = _call(client, method, path, token)
                case = (
                    who,
                    "own" if own else "other",
                    "held" if held else "consented",
                    method,
                    path,
                )
                ok = _expected_ok(who, method, template, own=own, held=held)
                if ok:
                    assert answer.status_code in (200, 303), (case, answer.status_code)
                else:
                    assert answer.status_code in (303, 401, 403, 404), (case, answer.status_code)
                    if who == "anonymous":
                        assert answer.status_code == 303
                        assert "/sign-in" in answer.headers["location"]
                body = answer.text
                shows_data = ok and "{person_id" in template and not template.endswith("/emergency")
                for mark in (MARK_DRUG, MARK_CLINICAL, MARK_HEALTH):
                    if not shows_data:
                        assert mark not in body, case
                assert MARK_HELD not in body, case
                db.expire_all()
                after = db.scalar(select(DataAccess.id).order_by(DataAccess.id.desc()).limit(1))
                if not shows_data:
                    assert after == before, case  # a refusal never logs a read
                else:
                    assert after != before, case  # a read always does
