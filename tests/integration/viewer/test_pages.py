"""The viewer's pages over the real app: what a pharmacist sees, each refusal explained (and
logged), the emergency flow and its review, the settings page, the reception link."""

from __future__ import annotations

from datetime import date, timedelta

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from onshi.accounts.models import StaffRole
from onshi.audit.models import AccessPurpose, AuditEvent, DataAccess
from onshi.clock import FrozenClock
from onshi.consent.models import ConsentKind
from onshi.institutions.models import InstitutionKind
from onshi.records.models import DrugSource
from onshi.viewer.models import EmergencyView, ViewerSettings
from tests.factories import (
    make_consent,
    make_drug_record,
    make_health_check_record,
    make_institution,
    make_person,
    make_qualification,
    make_staff_account,
    make_verification_event,
)
from tests.integration.viewer.conftest import signed_in
from tests.integration.web.web_helpers import csrf_from


def _accesses(db: Session) -> list[DataAccess]:
    db.expire_all()
    return list(db.scalars(select(DataAccess).order_by(DataAccess.id)))


def test_pharmacist_sees_drugs_by_month_with_sources(
    client: TestClient[Litestar], db: Session, clock: FrozenClock
) -> None:
    pharmacy = make_institution(db, kind=InstitutionKind.PHARMACY)
    person = make_person(db, family_name="山田", given_name="太郎")
    make_drug_record(db, person, drug_name="アムロジピン錠5mg", dispensed_on=date(2026, 2, 10))
    make_drug_record(
        db,
        person,
        drug_name="ロキソプロフェンNa錠60mg",
        dispensed_on=date(2026, 3, 25),
        claim_month=None,
        source=DrugSource.E_PRESCRIPTION,
    )
    make_drug_record(db, person, drug_name="古い薬", dispensed_on=date(2022, 1, 5))  # > 3 years
    make_consent(db, person, pharmacy)
    signed_in(client, db, clock, make_staff_account(db, StaffRole.PHARMACIST, pharmacy))
    page = client.get(f"/clinic/viewer/{person.id}/drugs")
    assert page.status_code == 200
    assert "アムロジピン錠5mg" in page.text
    assert "ロキソプロフェンNa錠60mg" in page.text
    assert "古い薬" not in page.text
    assert "電子処方箋（即時）" in page.text
    assert "2026-02請求分" in page.text
    assert "お薬手帳" in page.text  # the caution
    assert "2026年3月 調剤分" in page.text
    (access,) = _accesses(db)
    assert access.purpose is AccessPurpose.NORMAL
    assert access.staff_role == "pharmacist"

    filtered = client.get(
        f"/clinic/viewer/{person.id}/drugs",
        params={"drug": "ロキソ"},
        headers={"HX-Request": "true"},
    )
    assert filtered.status_code == 200
    assert "<html" not in filtered.text
    assert "ロキソプロフェンNa錠60mg" in filtered.text
    assert "アムロジピン" not in filtered.text
    assert len(_accesses(db)) == 2

    printed = client.get(f"/clinic/viewer/{person.id}/drugs/print")
    assert printed.status_code == 200
    assert "notebook-entry" in printed.text
    assert len(_accesses(db)) == 3


def test_bad_filter_is_a_specific_message(
    client: TestClient[Litestar], db: Session, clock: FrozenClock
) -> None:
    pharmacy = make_institution(db, kind=InstitutionKind.PHARMACY)
    person = make_person(db)
    make_consent(db, person, pharmacy)
    signed_in(client, db, clock, make_staff_account(db, StaffRole.PHARMACIST, pharmacy))
    answer = client.get(f"/clinic/viewer/{person.id}/drugs", params={"since": "2026-13-01"})
    assert answer.status_code == 400
    assert "YYYY-MM-DD" in answer.text
    answer = client.get(f"/clinic/viewer/{person.id}/drugs", params={"source": "x"})
    assert answer.status_code == 400
    backwards = {"since": "2026-03-01", "until": "2026-02-01"}
    answer = client.get(f"/clinic/viewer/{person.id}/drugs", params=backwards)
    assert answer.status_code == 400
    # the print view takes the same search, checked the same way
    answer = client.get(f"/clinic/viewer/{person.id}/drugs/print", params={"source": "x"})
    assert answer.status_code == 400
    assert _accesses(db) == []


def test_reception_clerk_refused_with_reason_and_logged(
    client: TestClient[Litestar], db: Session, clock: FrozenClock
) -> None:
    clinic = make_institution(db)
    person = make_person(db)
    make_consent(db, person, clinic)
    signed_in(client, db, clock, make_staff_account(db, StaffRole.RECEPTION, clinic))
    answer = client.get(f"/clinic/viewer/{person.id}/drugs")
    assert answer.status_code == 403
    assert "医師・歯科医師・薬剤師だけ" in answer.text
    assert "Only doctors, dentists and pharmacists" in answer.text  # both languages
    fragment = client.get(f"/clinic/viewer/{person.id}/drugs", headers={"HX-Request": "true"})
    assert fragment.status_code == 403
    assert fragment.headers.get("Onshi-Fragment") == "error"
    assert "<html" not in fragment.text
    db.expire_all()
    refused = db.scalars(select(AuditEvent).where(AuditEvent.action == "viewer.refused")).all()
    assert [e.details["reason"] for e in refused] == ["role", "role"]
    assert client.get("/clinic/viewer").status_code == 403
    assert _accesses(db) == []


def test_expired_consent_refused_with_time(
    client: TestClient[Litestar], db: Session, clock: FrozenClock
) -> None:
    clinic = make_institution(db)
    person = make_person(db)
    make_consent(db, person, clinic)
    signed_in(client, db, clock, make_staff_account(db, StaffRole.DOCTOR, clinic))
    clock.advance(timedelta(hours=24, minutes=1))
    signed_in(client, db, clock, make_staff_account(db, StaffRole.DOCTOR, clinic))
    answer = client.get(f"/clinic/viewer/{person.id}/drugs")
    assert answer.status_code == 403
    assert "2026-04-02 09:00" in answer.text


def test_patients_list_and_health_checks(
    client: TestClient[Litestar], db: Session, clock: FrozenClock
) -> None:
    clinic = make_institution(db)
    person = make_person(db, family_name="鈴木", given_name="一郎")
    make_consent(db, person, clinic, kind=ConsentKind.HEALTH_CHECK)
    make_health_check_record(db, person, hba1c=6.8, checked_on=date(2025, 6, 1))
    make_health_check_record(db, person, hba1c=6.1, checked_on=date(2024, 6, 1))
    signed_in(client, db, clock, make_staff_account(db, StaffRole.DOCTOR, clinic))
    listing = client.get("/clinic/viewer")
    assert listing.status_code == 200
    assert "鈴木" in listing.text
    assert "残り24時間0分" in listing.text
    page = client.get(f"/clinic/viewer/{person.id}/health-checks")
    assert page.status_code == 200
    assert page.text.index("2024-06-01") < page.text.index("2025-06-01")  # side by side
    assert "viewer-value--referral" in page.text  # HbA1c 6.8 ≥ 6.5
    assert "テスト健診センター" in page.text
    assert "標準的な健診・保健指導プログラム" in page.text
    assert client.get(f"/clinic/viewer/{person.id}/drugs").status_code == 403


def test_emergency_view_flagged_and_reviewed(
    client: TestClient[Litestar], db: Session, clock: FrozenClock
) -> None:
    hospital = make_institution(db, kind=InstitutionKind.HOSPITAL)
    person = make_person(db)
    member = make_qualification(db, person)
    make_verification_event(db, hospital, member, person_id=person.id)
    make_drug_record(db, person, drug_name="ワルファリンカリウム錠1mg")
    doctor = make_staff_account(db, StaffRole.DOCTOR, hospital, emergency_permission=True)
    signed_in(client, db, clock, doctor)
    refused = client.get(f"/clinic/viewer/{person.id}/drugs")
    assert refused.status_code == 403
    assert f"/clinic/viewer/{person.id}/emergency" in refused.text
    form = client.get(f"/clinic/viewer/{person.id}/emergency")
    token = csrf_from(form.text)
    empty = client.post(
        f"/clinic/viewer/{person.id}/emergency",
        data={"kind": "drug", "reason": " ", "csrf_token": token},
    )
    assert empty.status_code == 403
    assert "理由の入力が必要" in empty.text
    shown = client.post(
        f"/clinic/viewer/{person.id}/emergency",
        data={"kind": "drug", "reason": "意識障害で搬送", "csrf_token": token},
    )
    assert shown.status_code == 200
    assert "ワルファリンカリウム錠1mg" in shown.text
    (access,) = _accesses(db)
    assert access.purpose is AccessPurpose.EMERGENCY

    admin = make_staff_account(db, StaffRole.DOCTOR, hospital, is_institution_admin=True)
    signed_in(client, db, clock, admin)
    reviews = client.get("/clinic/viewer-reviews")
    assert "意識障害で搬送" in reviews.text
    db.expire_all()
    view_id = db.scalars(select(EmergencyView.id)).one()
    token = csrf_from(reviews.text)
    bad = client.post(f"/clinic/viewer-reviews/{view_id}", data={"note": "", "csrf_token": token})
    assert bad.status_code == 400
    done = client.post(
        f"/clinic/viewer-reviews/{view_id}",
        data={"note": "救急搬送記録と照合済み", "csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303
    db.expire_all()
    assert db.scalars(select(EmergencyView.review_note)).one() == "救急搬送記録と照合済み"
    assert db.scalar(select(AuditEvent.id).where(AuditEvent.action == "viewer.emergency_reviewed"))


def test_settings_page_admin_only_and_validated(
    client: TestClient[Litestar], db: Session, clock: FrozenClock
) -> None:
    pharmacy = make_institution(db, kind=InstitutionKind.PHARMACY)
    signed_in(client, db, clock, make_staff_account(db, StaffRole.PHARMACIST, pharmacy))
    assert client.get("/clinic/viewer-settings").status_code == 403
    admin = make_staff_account(db, StaffRole.RECEPTION, pharmacy, is_institution_admin=True)
    signed_in(client, db, clock, admin)
    form = client.get("/clinic/viewer-settings")
    assert form.status_code == 200
    token = csrf_from(form.text)
    bad = client.post(
        "/clinic/viewer-settings",
        data={"offer_drug": "1", "drug_years": "9", "csrf_token": token},
    )
    assert bad.status_code == 400
    assert "3〜5年" in bad.text
    db.expire_all()
    assert db.get(ViewerSettings, pharmacy.id) is None
    saved = client.post(
        "/clinic/viewer-settings",
        data={
            "offer_drug": "1",
            "offer_health_check": "1",
            "pharmacy_health_check": "1",
            "drug_years": "5",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    db.expire_all()
    stored = db.get(ViewerSettings, pharmacy.id)
    assert stored is not None
    assert stored.drug_history_years == 5
    assert stored.pharmacy_health_check


def test_reception_card_links_to_the_viewer_for_qualified_staff(
    client: TestClient[Litestar], db: Session, clock: FrozenClock
) -> None:
    clinic = make_institution(db)
    person = make_person(db)
    member = make_qualification(db, person)
    event = make_verification_event(db, clinic, member, person_id=person.id)
    make_consent(db, person, clinic, verification_event_id=event.id)
    signed_in(client, db, clock, make_staff_account(db, StaffRole.DOCTOR, clinic))
    assert f"/clinic/viewer/{person.id}/drugs" in client.get("/clinic/reception").text
    signed_in(client, db, clock, make_staff_account(db, StaffRole.RECEPTION, clinic))
    assert f"/clinic/viewer/{person.id}/drugs" not in client.get("/clinic/reception").text


def test_drug_page_shows_duplicate_therapy_alert(
    client: TestClient[Litestar], db: Session, clock: FrozenClock
) -> None:
    pharmacy = make_institution(db, kind=InstitutionKind.PHARMACY)
    person = make_person(db)
    for name, day in (("A医院", date(2026, 3, 1)), ("B医院", date(2026, 3, 10))):
        make_drug_record(
            db,
            person,
            dispensed_on=day,
            prescribing_institution_name=name,
            institution_name=f"{name}前薬局",
            days=28,
        )
    make_consent(db, person, pharmacy)
    signed_in(client, db, clock, make_staff_account(db, StaffRole.PHARMACIST, pharmacy))
    page = client.get(f"/clinic/viewer/{person.id}/drugs", params={"drug": "存在しない"})
    assert page.status_code == 200
    assert "viewer-alerts" in page.text  # alerts over the whole window, not the filtered rows
    assert "viewer-alert--duplicate" in page.text


def test_drug_page_opens_on_twelve_months_with_the_whole_window_a_link_away(
    client: TestClient[Litestar], db: Session, clock: FrozenClock
) -> None:
    pharmacy = make_institution(db, kind=InstitutionKind.PHARMACY)
    person = make_person(db)
    make_drug_record(db, person, drug_name="最近の薬", dispensed_on=date(2026, 1, 10))
    make_drug_record(db, person, drug_name="二年前の薬", dispensed_on=date(2024, 3, 1))
    make_consent(db, person, pharmacy)
    signed_in(client, db, clock, make_staff_account(db, StaffRole.PHARMACIST, pharmacy))
    page = client.get(f"/clinic/viewer/{person.id}/drugs")
    assert "最近の薬" in page.text
    assert "二年前の薬" not in page.text
    assert f"/clinic/viewer/{person.id}/drugs?period=all" in page.text
    whole = client.get(f"/clinic/viewer/{person.id}/drugs", params={"period": "all"})
    assert "二年前の薬" in whole.text
    searched = client.get(f"/clinic/viewer/{person.id}/drugs", params={"drug": "二年前"})
    assert "二年前の薬" in searched.text  # a search covers the whole window
