"""The patient's own pages: qualification, records, consents, access log — own data only, every
read of medical data logged (``self``) and audited, rules applied in the query."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from onshi.accounts.models import PatientAccount, SubjectKind
from onshi.accounts.services import SessionPolicy, create_session
from onshi.audit.models import AccessPurpose, AuditEvent, DataAccess, DataKind
from onshi.audit.services import record_data_access
from onshi.clock import FrozenClock
from onshi.consent.models import ConsentKind, ConsentValue
from onshi.identity.models import Person
from onshi.qualification.models import (
    LimitCategory,
    LimitCertification,
    LimitClass,
    LinkStatus,
    LossReason,
    Relationship,
)
from onshi.records.models import (
    CareType,
    ClinicalCategory,
    ClinicalRecord,
    DrugSource,
    HealthCheckRecord,
    MedicalExpenseRecord,
)
from tests.factories import (
    make_consent,
    make_drug_record,
    make_institution,
    make_insurer,
    make_patient_account,
    make_person,
    make_qualification,
    member_of,
)

POLICY = SessionPolicy(hours=8, idle_minutes=30)


@pytest.fixture
def patient(client: TestClient[Litestar], db: Session, clock: FrozenClock) -> Person:
    """A signed-in patient (session made directly; the passkey path has its own tests)."""
    person = make_person(db, family_name="佐藤", given_name="花子")
    account = make_patient_account(db, person)
    issued = create_session(
        db, clock, POLICY, subject_kind=SubjectKind.PATIENT, subject_id=account.id
    )
    db.commit()
    client.cookies.set("onshi_session", issued.token)
    return person


def _self_views(db: Session, person: Person) -> list[DataKind]:
    db.expire_all()
    return list(
        db.scalars(
            select(DataAccess.data_kind)
            .where(DataAccess.person_id == person.id, DataAccess.purpose == AccessPurpose.SELF)
            .order_by(DataAccess.id)
        )
    )


def _health_check(db: Session, person: Person, **values: Any) -> HealthCheckRecord:
    record = HealthCheckRecord(
        qualification_id=member_of(db, person).id,
        insurer_id=make_insurer(db).id,
        institution_name="健診センター",
        **values,
    )
    db.add(record)
    db.flush()
    return record


def _expense(db: Session, person: Person, service_month: date, **values: Any) -> None:
    next_month = (service_month.replace(day=28) + timedelta(days=4)).replace(day=1)
    second = (next_month.replace(day=28) + timedelta(days=4)).replace(day=10)
    db.add(
        MedicalExpenseRecord(
            qualification_id=member_of(db, person).id,
            insurer_id=make_insurer(db).id,
            institution_name=values.pop("institution_name", "テスト医院"),
            service_month=service_month,
            care_type=CareType.OUTPATIENT,
            days=1,
            total_yen=values.pop("total_yen", 10_000),
            patient_paid_yen=values.pop("patient_paid_yen", 3_000),
            available_on=second,
        )
    )
    db.flush()


class TestAccess:
    def test_signed_out_visitors_are_sent_to_passkey_sign_in(
        self, client: TestClient[Litestar]
    ) -> None:
        response = client.get("/me/drugs", follow_redirects=False)
        assert response.status_code in {302, 303}
        assert response.headers["location"].startswith("/me/sign-in")

    def test_staff_cannot_open_patient_pages(
        self, client: TestClient[Litestar], db: Session
    ) -> None:
        from tests.factories import DEFAULT_PASSWORD, make_staff_account
        from tests.integration.web.web_helpers import sign_in

        staff = make_staff_account(db)
        db.commit()
        sign_in(client, staff.login_id, DEFAULT_PASSWORD)
        assert client.get("/me", follow_redirects=False).status_code == 403


class TestQualification:
    def test_current_qualification_shown_in_full_to_the_owner(
        self, client: TestClient[Litestar], db: Session, patient: Person
    ) -> None:
        insurer = make_insurer(db, name="全国テスト健康保険組合")
        qualification = make_qualification(
            db, patient, insurer, symbol="7001", number="123456", branch="01"
        )
        db.add(
            LimitCertification(
                qualification_id=qualification.id,
                category=LimitCategory.C01,
                class_code=LimitClass.A03,
                valid_from=date(2025, 8, 1),
                valid_to=None,
            )
        )
        db.commit()
        page = client.get("/me")
        assert page.status_code == 200
        text = page.text
        assert "全国テスト健康保険組合" in text
        assert insurer.number in text
        assert "7001" in text
        assert "123456" in text
        assert "枝番 01" in text
        assert "本人" in text
        assert "3割" in text
        assert "ウ" in text  # 限度額適用認定 A03
        assert "登録済み" in text
        assert _self_views(db, patient) == [DataKind.QUALIFICATION]
        event = db.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert event is not None
        assert (event.action, event.person_id) == ("portal.viewed", patient.id)

    def test_an_ended_qualification_is_invalid_and_a_held_one_only_being_checked(
        self, client: TestClient[Litestar], db: Session, patient: Person
    ) -> None:
        make_qualification(
            db,
            patient,
            acquired_on=date(2018, 4, 1),
            lost_on=date(2026, 3, 1),
            loss_reason=LossReason.OTHER_INSURANCE,
        )
        # A new registration that failed the 5-item check is shown nowhere: 確認中 only.
        make_qualification(
            db, patient, acquired_on=date(2026, 3, 1), link_status=LinkStatus.HELD, number="777001"
        )
        db.commit()
        text = client.get("/me").text
        # the validity rule: the lost one is 資格（無効） here as on a card check, not "none"
        assert 'id="qualification-ended"' in text
        assert 'id="not-registered"' not in text
        assert "喪失（他の医療保険の資格取得）" in text  # the history still shows the old one
        assert text.count('class="status-line qualification-withheld"') == 1
        assert "確認中" in text
        assert "777001" not in text  # nothing of the held member

    def test_nothing_registered_explains_what_to_do(
        self, client: TestClient[Litestar], db: Session, patient: Person
    ) -> None:
        make_qualification(db, patient, link_status=LinkStatus.UNDONE, number="777002")
        db.commit()
        text = client.get("/me").text
        assert 'id="not-registered"' in text
        assert "被保険者資格申立書" in text
        assert "資格確認書" in text
        assert "777002" not in text
        assert "qualification-withheld" not in text

    def test_english_switch(
        self, client: TestClient[Litestar], db: Session, patient: Person
    ) -> None:
        make_qualification(db, patient, relationship=Relationship.DEPENDANT)
        db.commit()
        text = client.get("/me", params={"lang": "en"}).text
        assert "Health insurance" in text
        assert "Dependant" in text
        assert "30%" in text


class TestRecords:
    def test_drugs_five_years_and_e_prescriptions_100_days(
        self, client: TestClient[Litestar], db: Session, patient: Person
    ) -> None:
        make_drug_record(db, patient, drug_name="最近の薬", dispensed_on=date(2026, 2, 1))
        make_drug_record(db, patient, drug_name="五年内の薬", dispensed_on=date(2021, 4, 1))
        make_drug_record(db, patient, drug_name="古すぎる薬", dispensed_on=date(2021, 3, 31))
        make_drug_record(
            db,
            patient,
            drug_name="新しい電子処方",
            source=DrugSource.E_PRESCRIPTION,
            claim_month=None,
            dispensed_on=date(2026, 3, 20),
        )
        make_drug_record(
            db,
            patient,
            drug_name="古い電子処方",
            source=DrugSource.E_PRESCRIPTION,
            claim_month=None,
            dispensed_on=date(2025, 12, 1),
        )
        make_drug_record(db, make_person(db), drug_name="他人の薬")
        db.commit()
        text = client.get("/me/drugs").text
        assert "最近の薬" in text
        assert "五年内の薬" in text
        assert "新しい電子処方" in text
        assert "古すぎる薬" not in text
        assert "古い電子処方" not in text
        assert "他人の薬" not in text
        assert _self_views(db, patient) == [DataKind.DRUG]

    def test_another_persons_record_is_404(
        self, client: TestClient[Litestar], db: Session, patient: Person
    ) -> None:
        mine = make_drug_record(db, patient, drug_name="自分の薬")
        theirs = make_drug_record(db, make_person(db), drug_name="他人の薬")
        other_check = _health_check(db, make_person(db), checked_on=date(2025, 6, 1), bmi=22.0)
        db.commit()
        assert "自分の薬" in client.get(f"/me/drugs/{mine.id}").text
        assert client.get(f"/me/drugs/{theirs.id}").status_code == 404
        assert client.get(f"/me/health-checks/{other_check.id}").status_code == 404
        assert client.get("/me/drugs/999999").status_code == 404
        # Only the successful read was logged.
        assert _self_views(db, patient) == [DataKind.DRUG]

    def test_pagination_is_done_by_the_query(
        self, client: TestClient[Litestar], db: Session, patient: Person
    ) -> None:
        for day in range(1, 26):
            make_drug_record(db, patient, drug_name=f"薬{day:02d}", dispensed_on=date(2026, 1, day))
        db.commit()
        first = client.get("/me/drugs").text
        second = client.get("/me/drugs", params={"page": 2}).text
        assert "薬25" in first
        assert "薬06" in first
        assert "薬05" not in first
        assert "薬05" in second
        assert "薬01" in second
        assert "薬25" not in second
        assert 'rel="next"' in first
        assert 'rel="prev"' in second
        # An htmx request gets the table fragment only, marked Vary: HX-Request.
        fragment = client.get("/me/drugs", params={"page": 2}, headers={"HX-Request": "true"})
        assert fragment.text.lstrip().startswith('<div id="drug-list">')
        assert "HX-Request" in fragment.headers["vary"]
        assert client.get("/me/drugs", params={"page": 0}).status_code == 400

    def test_health_checks_chart_with_table_twin(
        self, client: TestClient[Litestar], db: Session, patient: Person
    ) -> None:
        for year, hba1c, bmi in [(2022, 5.4, 23.1), (2023, 5.7, 24.0), (2024, 6.1, 25.3)]:
            _health_check(db, patient, checked_on=date(year, 6, 1), hba1c=hba1c, bmi=bmi)
        _health_check(db, patient, checked_on=date(2020, 6, 1), hba1c=9.9, bmi=30.0)  # > 5 years
        db.commit()
        text = client.get("/me/health-checks").text
        assert text.count("<svg") == 2
        assert 'role="img"' in text
        assert "<polyline" in text
        for value in ("5.4", "5.7", "6.1", "23.1", "25.3"):
            assert value in text
        assert "9.9" not in text
        assert _self_views(db, patient) == [DataKind.HEALTH_CHECK]

    def test_clinical(self, client: TestClient[Litestar], db: Session, patient: Person) -> None:
        db.add(
            ClinicalRecord(
                qualification_id=member_of(db, patient).id,
                institution_name="テスト病院",
                visit_on=date(2026, 1, 5),
                category=ClinicalCategory.TEST,
                item_code="160000410",
                item_name="血液学的検査",
            )
        )
        db.commit()
        text = client.get("/me/clinical").text
        assert "血液学的検査" in text
        assert "検査" in text
        assert _self_views(db, patient) == [DataKind.CLINICAL]

    def test_expenses_only_from_the_10th_of_the_second_month(
        self, client: TestClient[Litestar], db: Session, patient: Person, clock: FrozenClock
    ) -> None:
        # Today (JST) is 2026-04-01: January's care appeared on 03-10, February's on 04-10.
        _expense(db, patient, date(2026, 1, 1), institution_name="一月の医院", total_yen=12_340)
        _expense(db, patient, date(2026, 2, 1), institution_name="二月の医院")
        _expense(db, patient, date(2025, 12, 1), institution_name="十二月の医院", total_yen=5_000)
        db.commit()
        text = client.get("/me/expenses").text
        assert "一月の医院" in text
        assert "十二月の医院" in text
        assert "<td>二月の医院</td>" not in text
        year = client.get("/me/expenses", params={"year": 2025}).text
        assert "十二月の医院" in year
        assert "一月の医院" not in year
        assert "5,000円" in year
        clock.advance(timedelta(days=8, hours=15))  # 2026-04-10 00:00 JST
        account_id = db.scalar(
            select(PatientAccount.id).where(PatientAccount.person_id == patient.id)
        )
        assert account_id is not None
        issued = create_session(
            db, clock, POLICY, subject_kind=SubjectKind.PATIENT, subject_id=account_id
        )
        db.commit()
        client.cookies.set("onshi_session", issued.token)
        assert "<td>二月の医院</td>" in client.get("/me/expenses").text
        assert _self_views(db, patient) == [DataKind.EXPENSE] * 3


class TestActivity:
    def test_consents_including_archived(
        self, client: TestClient[Litestar], db: Session, patient: Person
    ) -> None:
        clinic = make_institution(db, name="さくら内科")
        make_consent(db, patient, clinic, kind=ConsentKind.HEALTH_CHECK)
        make_consent(
            db,
            patient,
            clinic,
            kind=ConsentKind.CLINICAL,
            value=ConsentValue.NOT_GIVEN,
            archived_at=datetime(2026, 3, 1, tzinfo=UTC),
        )
        make_consent(db, make_person(db), make_institution(db, name="他人の病院"))
        db.commit()
        text = client.get("/me/consents").text
        assert "さくら内科" in text
        assert "特定健診情報" in text
        assert "同意なし" in text
        assert "他人の病院" not in text
        assert _self_views(db, patient) == []  # consents are not medical data

    def test_access_log_shows_who_viewed_what_and_why(
        self, client: TestClient[Litestar], db: Session, patient: Person, clock: FrozenClock
    ) -> None:
        er = make_institution(db, name="救急病院")
        pharmacy = make_institution(db, name="駅前薬局")
        record_data_access(
            db,
            clock,
            person_id=patient.id,
            data_kind="drug",
            purpose="emergency",
            institution_id=er.id,
        )
        record_data_access(
            db,
            clock,
            person_id=patient.id,
            data_kind="health_check",
            purpose="normal",
            institution_id=pharmacy.id,
        )
        record_data_access(
            db,
            clock,
            person_id=make_person(db).id,
            data_kind="drug",
            purpose="disaster",
            institution_id=make_institution(db, name="他人を見た病院").id,
        )
        record_data_access(db, clock, person_id=patient.id, data_kind="clinical", purpose="self")
        db.commit()
        text = client.get("/me/access-log").text
        assert "救急病院" in text
        assert "救急時の閲覧" in text
        assert "駅前薬局" in text
        assert "他人を見た病院" not in text
        assert "ご本人の閲覧" not in text
        with_self = client.get("/me/access-log", params={"self": "true"}).text
        assert "ご本人の閲覧" in with_self
        landing = client.get("/me").text
        assert "救急病院" in landing
