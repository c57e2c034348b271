"""Each audience's landing page shows real data from the database (and empty states)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.orm import Session

from onshi.accounts.models import StaffRole
from onshi.clock import FrozenClock
from onshi.institutions.models import InstitutionKind
from onshi.qualification.models import LinkStatus
from onshi.verification.models import NotFoundReason, VerificationMethod
from tests.factories import (
    DEFAULT_PASSWORD,
    make_consent,
    make_institution,
    make_insurer,
    make_person,
    make_qualification,
    make_reader_device,
    make_staff_account,
    make_verification_event,
)
from tests.integration.web.web_helpers import sign_in

# The FrozenClock starts at 2026-04-01 00:00 UTC = 09:00 JST.
NOW = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)


def test_clinic_page_for_reception(client: TestClient[Litestar], db: Session) -> None:
    institution = make_institution(db, name="オン資テスト診療所")
    other = make_institution(db, name="よその病院")
    person = make_person(db, family_name="山田", given_name="太郎")
    qualification = make_qualification(db, person=person)
    make_verification_event(db, institution=institution, qualification=qualification)
    make_verification_event(
        db,
        institution=institution,
        qualification=qualification,
        method=VerificationMethod.CARD_FACE,
        occurred_at=NOW - timedelta(hours=10),  # 前日 23:00 JST: not today
    )
    make_verification_event(db, institution=other, qualification=qualification)
    make_verification_event(
        db,
        institution=institution,
        qualification=None,
        person_id=None,
        result_code=None,
        error_code="certificate.revoked",
        method=VerificationMethod.CARD_PIN,
        occurred_at=NOW - timedelta(minutes=5),
    )
    make_reader_device(db, institution=institution, label="受付カウンター1")
    make_consent(db, person=person, institution=institution)
    staff = make_staff_account(db, StaffRole.RECEPTION, institution=institution)
    db.commit()

    sign_in(client, staff.login_id, DEFAULT_PASSWORD)
    html = client.get("/clinic").text
    assert "オン資テスト診療所" in html
    assert institution.code in html
    assert "よその病院" not in html
    assert "2件" in html  # today (JST): the two events at 09:00 and 08:55
    assert "山田\u3000太郎" in html
    assert "有効" in html
    assert "失効しています" in html  # the error code's catalogue message (pki)
    assert "受付カウンター1" in html
    # Reception clerks are not qualified staff: no consent figure.
    assert "閲覧同意が有効な患者" not in html


def test_clinic_page_for_a_doctor_counts_valid_consents(
    client: TestClient[Litestar], db: Session, clock: FrozenClock
) -> None:
    institution = make_institution(db)
    make_consent(db, institution=institution)
    make_consent(db, institution=institution)
    make_consent(db, institution=institution, expires_at=NOW - timedelta(minutes=1))
    make_consent(db, institution=make_institution(db))
    doctor = make_staff_account(db, StaffRole.DOCTOR, institution=institution)
    db.commit()

    sign_in(client, doctor.login_id, DEFAULT_PASSWORD)
    html = client.get("/clinic?lang=en").text
    assert "Patients with a valid viewing consent" in html
    assert ">2<" in html.replace(" ", "")
    assert "No verification has been recorded at this institution yet." in html
    assert "No card reader is paired with this institution." in html


def test_clinic_fragment_for_htmx(client: TestClient[Litestar], db: Session) -> None:
    institution = make_institution(db)
    make_verification_event(db, institution=institution)
    staff = make_staff_account(db, StaffRole.PHARMACIST, institution=institution)
    db.commit()
    sign_in(client, staff.login_id, DEFAULT_PASSWORD)
    fragment = client.get("/clinic", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="recent-events">')
    assert "<html" not in fragment.text
    assert fragment.headers["vary"] == "HX-Request"
    assert client.get("/clinic").headers["vary"] == "HX-Request"


def test_insurer_page(client: TestClient[Litestar], db: Session) -> None:
    insurer = make_insurer(db, name="オン資健康保険組合")
    other = make_insurer(db)
    make_qualification(db, insurer=insurer)  # matched, old registration
    held = make_qualification(
        db,
        insurer=insurer,
        person=make_person(db, family_name="佐藤", given_name="花子"),
        link_status=LinkStatus.HELD,
        notified_on=date(2026, 3, 28),
        registered_at=NOW - timedelta(days=1),
    )
    make_verification_event(  # a card check that answered 4 because of the held link
        db,
        qualification=held,
        qualification_id=None,
        result_code=4,
        not_found_reason=NotFoundReason.HELD,
        held_qualification_id=held.id,
    )
    make_qualification(  # late: notified 3/20, registered 3/30 (JST) > 5 days
        db,
        insurer=insurer,
        person=make_person(db, family_name="鈴木", given_name="一郎"),
        notified_on=date(2026, 3, 20),
        registered_at=datetime(2026, 3, 30, 1, 0, tzinfo=UTC),
    )
    make_qualification(  # exactly on day 5 (3/25 23:00 JST): not late
        db,
        insurer=insurer,
        notified_on=date(2026, 3, 20),
        registered_at=datetime(2026, 3, 25, 14, 0, tzinfo=UTC),
    )
    make_qualification(  # lost: not an active member
        db, insurer=insurer, lost_on=date(2026, 1, 1), valid_to=date(2025, 12, 31)
    )
    make_qualification(db, insurer=other, link_status=LinkStatus.HELD)
    operator = make_staff_account(db, StaffRole.INSURER_OPERATOR, insurer=insurer)
    db.commit()

    sign_in(client, operator.login_id, DEFAULT_PASSWORD, audience="insurer")
    html = client.get("/insurer").text
    assert "オン資健康保険組合" in html
    assert "4人" in html  # active members
    assert "佐藤\u3000花子" in html
    assert "row--flagged" in html
    assert "status-counts__item--alert" in html
    assert "鈴木\u3000一郎" in html
    late_section = html[html.index('id="late-heading"') : html.index('id="recent-heading"')]
    assert late_section.count("<tr") == 2  # header + 鈴木 only
    held_line = html[html.index('id="held-card-checks"') :]
    assert held_line[: held_line.index("</p>")].endswith(
        "1件（医療機関には理由を表示していません）"
    )


def test_insurer_page_empty_states(client: TestClient[Litestar], db: Session) -> None:
    operator = make_staff_account(db, StaffRole.INSURER_OPERATOR)
    db.commit()
    sign_in(client, operator.login_id, DEFAULT_PASSWORD, audience="insurer")
    html = client.get("/insurer?lang=en").text
    assert "No registration failed the 5-item check." in html
    assert "No qualification was registered after the deadline." in html
    assert "No qualification was registered in the last 5 days." in html


def test_admin_page(client: TestClient[Litestar], db: Session) -> None:
    make_institution(
        db,
        kind=InstitutionKind.HOSPITAL,
        card_reader_applied_on=date(2022, 1, 1),
        ready_on=date(2022, 6, 1),
        operating_on=date(2023, 1, 1),
    )
    make_institution(
        db,
        kind=InstitutionKind.HOSPITAL,
        card_reader_applied_on=date(2022, 1, 1),
        ready_on=None,
        operating_on=None,
    )
    make_institution(
        db,
        kind=InstitutionKind.PHARMACY,
        card_reader_applied_on=date(2026, 5, 1),  # in the future: not counted yet
        ready_on=None,
        operating_on=None,
    )
    institution = make_institution(db)
    make_verification_event(db, institution=institution)
    make_verification_event(db, institution=institution, occurred_at=NOW - timedelta(days=8))
    make_verification_event(
        db, institution=institution, qualification_id=None, result_code=4,
        not_found_reason=NotFoundReason.NO_MEMBER,
    )  # fmt: skip
    admin = make_staff_account(db, StaffRole.ADMINISTRATOR)
    db.commit()

    sign_in(client, admin.login_id, DEFAULT_PASSWORD, audience="admin")
    html = client.get("/admin?lang=en").text
    hospitals = html[html.index("Hospitals") :]
    row = hospitals[: hospitals.index("</tr>")]
    cells = [cell.split(">")[-1].strip() for cell in row.split("</td>")[:-1]]
    assert cells[0].startswith("2")  # facilities
    assert "50.0%" in row  # operating rate 1/2
    assert "Persons registered" in html
    assert "Verifications in the last 7 days" in html
    assert "Insurance card number" in html  # the events in the window, by method
    reasons = html[html.index('id="not-found-reasons"') :]
    reasons = reasons[: reasons.index("</table>")]
    assert "No registered qualification</th><td>1</td>" in reasons
    assert "Link on hold</th><td>0</td>" in reasons
