"""Factories for tests: each ``make_*`` builds a valid model instance, applies the keyword
overrides, adds it to the session and flushes (so it has an id). Related objects that are not
given are made too (``make_qualification(db)`` makes a person and an insurer).

Values are unique per process (counters), realistic (check digits valid, kana full-width) and
deterministic. Timestamps default to :data:`NOW` (the ``FrozenClock`` default).
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy.orm import Session

from onshi.accounts.models import PatientAccount, StaffAccount, StaffRole
from onshi.consent.models import Consent, ConsentKind, ConsentValue
from onshi.db.base import Base
from onshi.devices.models import ReaderDevice
from onshi.identifiers.card import number_key, symbol_key
from onshi.identifiers.checkdigit import luhn_check_digit
from onshi.identity.models import CardCertificateLink, Person, Sex
from onshi.institutions.models import Institution, InstitutionKind
from onshi.jlis.models import SimulatedJlisCertificate, SimulatedJlisResident
from onshi.qualification.models import (
    CopaymentRatio,
    Insurer,
    InsurerKind,
    LimitCategory,
    LimitCertification,
    LimitClass,
    LinkActor,
    LinkMethod,
    LinkStatus,
    MemberLink,
    Qualification,
    Relationship,
    SpecificDisease,
    SpecificDiseaseCertificate,
)
from onshi.records.models import (
    ClinicalCategory,
    ClinicalRecord,
    DrugRecord,
    DrugSource,
    GuidanceLevel,
    HealthCheckRecord,
    MetabolicJudgement,
)
from onshi.verification.models import ResultCode, VerificationEvent, VerificationMethod
from onshi.viewer.disaster_models import DisasterDeclaration, DisasterPrefecture
from onshi.viewer.models import ViewerSettings

NOW = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)
DEFAULT_PASSWORD = "correct horse battery staple 2026"

_counter = itertools.count(1)
M = TypeVar("M", bound=Base)


def _next() -> int:
    return next(_counter)


def _save(db: Session, instance: M, overrides: dict[str, Any]) -> M:
    for name, value in overrides.items():
        if not hasattr(type(instance), name):
            raise TypeError(f"{type(instance).__name__} has no attribute {name!r}")
        setattr(instance, name, value)
    db.add(instance)
    db.flush()
    return instance


@cache
def default_password_hash() -> str:
    """argon2id of :data:`DEFAULT_PASSWORD`, computed once (hashing is deliberately slow)."""
    from argon2 import PasswordHasher

    return PasswordHasher().hash(DEFAULT_PASSWORD)


def make_person(db: Session, **overrides: Any) -> Person:
    n = _next()
    person = Person(
        family_name="山田",
        given_name=f"太郎{n}",
        family_name_kana="ヤマダ",
        given_name_kana="タロウ",
        birth_date=date(1980, 5, 17),
        sex=Sex.MALE,
        postal_code="1000001",
        address=f"東京都千代田区千代田1-{n}",
        prefecture_code="13",
        my_number_hash=None,
        created_at=NOW,
    )
    return _save(db, person, overrides)


def make_resident_record(
    db: Session, person: Person | None = None, **overrides: Any
) -> SimulatedJlisResident:
    """A SIMULATED J-LIS record matching ``person`` on all 5 items (override to mismatch)."""
    person = person or make_person(db)
    if person.my_number_hash is None:
        person.my_number_hash = f"{_next():064x}"
    record = SimulatedJlisResident(
        my_number_hash=person.my_number_hash,
        family_name=person.family_name,
        given_name=person.given_name,
        family_name_kana=person.family_name_kana,
        given_name_kana=person.given_name_kana,
        birth_date=person.birth_date,
        sex=person.sex,
        postal_code=person.postal_code,
        address=person.address,
        prefecture_code=person.prefecture_code,
    )
    return _save(db, record, overrides)


def make_issued_certificate(
    db: Session, resident: SimulatedJlisResident | None = None, **overrides: Any
) -> SimulatedJlisCertificate:
    """A SIMULATED J-LIS record of a certificate issued to ``resident``."""
    resident = resident or make_resident_record(db)
    n = _next()
    record = SimulatedJlisCertificate(
        resident_id=resident.id,
        certificate_issuer="CN=Onshi Development JPKI User Authentication CA",
        certificate_serial=f"{n:X}",
        fingerprint_sha256=f"{n:064x}",
        not_before=NOW - timedelta(days=365),
        not_after=NOW + timedelta(days=4 * 365),
        issued_at=NOW - timedelta(days=365),
        revoked_at=None,
        revocation_reason=None,
    )
    return _save(db, record, overrides)


def make_card_link(
    db: Session, person: Person | None = None, **overrides: Any
) -> CardCertificateLink:
    person = person or make_person(db)
    n = _next()
    link = CardCertificateLink(
        person_id=person.id,
        certificate_issuer="CN=Onshi Development JPKI User Authentication CA",
        certificate_serial=f"{n:x}",
        fingerprint_sha256=f"{n:064x}",
        not_before=NOW - timedelta(days=365),
        not_after=NOW + timedelta(days=4 * 365),
        linked_at=NOW,
        unlinked_at=None,
    )
    return _save(db, link, overrides)


def make_insurer(db: Session, **overrides: Any) -> Insurer:
    """A 健保組合 in Tokyo by default, with a valid 8-digit number (法別 06)."""
    n = _next()
    payload = f"0613{n % 1000:03d}"
    insurer = Insurer(
        number=f"{payload}{luhn_check_digit(payload)}",
        name=f"テスト健康保険組合{n}",
        kind=InsurerKind.KENPO_KUMIAI,
        prefecture_code="13",
        houbetsu="06",
        created_at=NOW,
    )
    return _save(db, insurer, overrides)


def make_qualification(
    db: Session,
    person: Person | None = None,
    insurer: Insurer | None = None,
    *,
    link_status: LinkStatus | None = LinkStatus.LINKED,
    **overrides: Any,
) -> Qualification:
    """A current 本人 member record (3割) carrying ``person``'s 5 items, linked to ``person``
    with ``link_status`` (``None``: no link at all). ``symbol`` / ``number`` overrides also set
    the lookup keys unless those are overridden too."""
    person = person or make_person(db)
    insurer = insurer or make_insurer(db)
    symbol = overrides.pop("symbol", "1234")
    number = overrides.pop("number", f"{_next():06d}")
    qualification = Qualification(
        insurer_id=insurer.id,
        card_class="01",
        symbol=symbol,
        number=number,
        branch="00",
        symbol_key=symbol_key(symbol),
        number_key=number_key(number),
        relationship=Relationship.INSURED,
        name=person.full_name,
        name_kana=person.full_name_kana,
        birth_date=person.birth_date,
        sex=person.sex,
        address=person.address,
        postal_code=person.postal_code,
        acquired_on=date(2020, 4, 1),
        lost_on=None,
        loss_reason=None,
        issued_on=date(2020, 4, 1),
        valid_from=date(2020, 4, 1),
        valid_to=None,
        copayment_ratio=CopaymentRatio.THIRTY,
        preschool=False,
        notified_on=date(2020, 4, 1),
        registered_at=datetime(2020, 4, 3, tzinfo=UTC),
        created_at=NOW,
    )
    _save(db, qualification, overrides)
    if link_status is not None:
        make_member_link(db, qualification, person, status=link_status)
    return qualification


def make_limit_certification(
    db: Session, qualification: Qualification, **overrides: Any
) -> LimitCertification:
    """A 限度額適用認定 (区分 01, ウ) of ``qualification`` in force since 2025-04-01."""
    certification = LimitCertification(
        qualification_id=qualification.id,
        category=LimitCategory.C01,
        class_code=LimitClass.A03,
        valid_from=date(2025, 4, 1),
        valid_to=None,
    )
    return _save(db, certification, overrides)


def make_specific_disease(
    db: Session, qualification: Qualification, **overrides: Any
) -> SpecificDiseaseCertificate:
    """A 特定疾病療養受療証 (人工透析, 10,000 円) of ``qualification`` in force since 2024."""
    certificate = SpecificDiseaseCertificate(
        qualification_id=qualification.id,
        disease=SpecificDisease.DIALYSIS,
        monthly_limit_yen=10000,
        valid_from=date(2024, 1, 1),
        valid_to=None,
    )
    return _save(db, certificate, overrides)


def make_member_link(
    db: Session, qualification: Qualification, person: Person, **overrides: Any
) -> MemberLink:
    """A current link of ``qualification`` to ``person`` (``linked`` unless overridden)."""
    link = MemberLink(
        qualification_id=qualification.id,
        person_id=person.id,
        status=LinkStatus.LINKED,
        method=LinkMethod.MY_NUMBER,
        variations=[],
        differences=[],
        actor_kind=LinkActor.SYSTEM,
        actor_id=None,
        created_at=datetime(2020, 4, 3, tzinfo=UTC),
        ended_at=None,
    )
    return _save(db, link, overrides)


def linked_person_id(db: Session, qualification: Qualification) -> int | None:
    """The person the member record's current link names, whatever its status."""
    from sqlalchemy import select

    return db.scalar(
        select(MemberLink.person_id).where(
            MemberLink.qualification_id == qualification.id, MemberLink.ended_at.is_(None)
        )
    )


def member_of(db: Session, person: Person) -> Qualification:
    """A member record of ``person`` with a current link (made when the person has none)."""
    from sqlalchemy import select

    found = db.scalar(
        select(Qualification)
        .join(MemberLink, MemberLink.qualification_id == Qualification.id)
        .where(MemberLink.person_id == person.id, MemberLink.ended_at.is_(None))
        .order_by(Qualification.acquired_on.desc(), Qualification.id.desc())
        .limit(1)
    )
    return found if found is not None else make_qualification(db, person)


_CODE_TABLE = {
    InstitutionKind.HOSPITAL: "1",
    InstitutionKind.MEDICAL_CLINIC: "1",
    InstitutionKind.DENTAL_CLINIC: "3",
    InstitutionKind.PHARMACY: "4",
}


def make_institution(db: Session, **overrides: Any) -> Institution:
    """An operating Tokyo medical clinic by default; the code's 点数表 digit follows ``kind``."""
    n = _next()
    kind = InstitutionKind(overrides.pop("kind", InstitutionKind.MEDICAL_CLINIC))
    prefecture = overrides.get("prefecture_code", "13")
    payload = f"{prefecture}{_CODE_TABLE[kind]}01{n % 10000:04d}"
    institution = Institution(
        code=f"{payload}{luhn_check_digit(payload)}",
        name=f"テスト医院{n}",
        kind=kind,
        prefecture_code=prefecture,
        address=f"東京都新宿区西新宿2-{n}",
        under_mandate=True,
        card_reader_applied_on=date(2022, 6, 1),
        ready_on=date(2022, 12, 1),
        operating_on=date(2023, 1, 10),
        created_at=NOW,
    )
    return _save(db, institution, overrides)


def make_staff_account(
    db: Session,
    role: StaffRole | str = StaffRole.RECEPTION,
    institution: Institution | None = None,
    insurer: Insurer | None = None,
    **overrides: Any,
) -> StaffAccount:
    """Clinic roles get an institution, insurer operators an insurer (made if not given).
    The password is :data:`DEFAULT_PASSWORD`."""
    role = StaffRole(role)
    institution_id: int | None = None
    insurer_id: int | None = None
    if role in {StaffRole.RECEPTION, StaffRole.DOCTOR, StaffRole.DENTIST, StaffRole.PHARMACIST}:
        institution_id = (institution or make_institution(db)).id
    elif role is StaffRole.INSURER_OPERATOR:
        insurer_id = (insurer or make_insurer(db)).id
    n = _next()
    account = StaffAccount(
        login_id=f"{role.value}{n}",
        display_name=f"職員{n}",
        password_hash=default_password_hash(),
        role=role,
        institution_id=institution_id,
        insurer_id=insurer_id,
        is_institution_admin=False,
        emergency_permission=False,
        active=True,
        created_at=NOW,
        last_sign_in_at=None,
    )
    return _save(db, account, overrides)


def make_patient_account(
    db: Session, person: Person | None = None, **overrides: Any
) -> PatientAccount:
    person = person or make_person(db)
    account = PatientAccount(person_id=person.id, created_at=NOW, last_sign_in_at=None)
    return _save(db, account, overrides)


def make_device_key() -> tuple[Ed25519PrivateKey, bytes]:
    """A fresh Ed25519 key and its raw 32-byte public key."""
    key = Ed25519PrivateKey.generate()
    return key, key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def make_reader_device(
    db: Session, institution: Institution | None = None, **overrides: Any
) -> ReaderDevice:
    institution = institution or make_institution(db)
    n = _next()
    device = ReaderDevice(
        institution_id=institution.id,
        label=f"受付{n}",
        public_key=overrides.pop("public_key", None) or make_device_key()[1],
        paired_at=NOW,
    )
    return _save(db, device, overrides)


def make_verification_event(
    db: Session,
    institution: Institution | None = None,
    qualification: Qualification | None = None,
    **overrides: Any,
) -> VerificationEvent:
    """A successful 記号番号 check of ``qualification`` (made if not given)."""
    institution = institution or make_institution(db)
    qualification = qualification or make_qualification(db)
    event = VerificationEvent(
        institution_id=institution.id,
        method=VerificationMethod.SYMBOL_NUMBER,
        person_id=linked_person_id(db, qualification),
        qualification_id=qualification.id,
        result_code=int(ResultCode.VALID),
        occurred_at=NOW,
    )
    return _save(db, event, overrides)


def make_consent(
    db: Session,
    person: Person | None = None,
    institution: Institution | None = None,
    **overrides: Any,
) -> Consent:
    """A given 薬剤情報 consent, valid 24 hours from :data:`NOW`."""
    person = person or make_person(db)
    institution = institution or make_institution(db)
    consent = Consent(
        person_id=person.id,
        institution_id=institution.id,
        kind=ConsentKind.DRUG,
        value=ConsentValue.GIVEN,
        registered_at=NOW,
        expires_at=NOW + timedelta(hours=24),
        home_visit=False,
    )
    return _save(db, consent, overrides)


def make_drug_record(db: Session, person: Person | None = None, **overrides: Any) -> DrugRecord:
    """A drug record of ``person``'s current member record (made, and linked, when needed);
    ``qualification_id`` overrides the member."""
    if "qualification_id" not in overrides:
        overrides["qualification_id"] = member_of(db, person or make_person(db)).id
    record = DrugRecord(
        dispensed_on=date(2026, 2, 10),
        claim_month=date(2026, 2, 1),
        institution_name="テスト薬局",
        drug_code="2149039F1020",
        drug_name="アムロジピン錠5mg",
        quantity=1.0,
        unit="錠",
        days=28,
        source=DrugSource.CLAIM,
    )
    return _save(db, record, overrides)


def make_health_check_record(
    db: Session, person: Person | None = None, **overrides: Any
) -> HealthCheckRecord:
    """A complete 特定健診 result of ``person``'s current member record (insurer: the member's)."""
    if "qualification_id" not in overrides:
        member = member_of(db, person or make_person(db))
        overrides["qualification_id"] = member.id
        overrides.setdefault("insurer_id", member.insurer_id)
    record = HealthCheckRecord(
        checked_on=date(2025, 6, 10),
        institution_name="テスト健診センター",
        height_cm=170.2,
        weight_kg=72.5,
        bmi=25.0,
        waist_cm=86.0,
        systolic=132,
        diastolic=84,
        hba1c=5.8,
        fasting_glucose=102,
        triglycerides=160,
        hdl=52,
        ldl=138,
        ast=24,
        alt=33,
        ggt=48,
        urine_glucose="−",
        urine_protein="±",
        on_bp_medication=False,
        on_glucose_medication=False,
        on_lipid_medication=False,
        smoker=False,
        metabolic_judgement=MetabolicJudgement.BORDERLINE,
        guidance_level=GuidanceLevel.MOTIVATIONAL,
    )
    return _save(db, record, overrides)


def make_clinical_record(
    db: Session, person: Person | None = None, **overrides: Any
) -> ClinicalRecord:
    """A 検査 item of a visit of ``person``'s current member record."""
    if "qualification_id" not in overrides:
        overrides["qualification_id"] = member_of(db, person or make_person(db)).id
    record = ClinicalRecord(
        institution_name="テスト病院",
        visit_on=date(2026, 2, 3),
        category=ClinicalCategory.TEST,
        item_code="160008010",
        item_name="末梢血液一般検査",
        inpatient=False,
    )
    return _save(db, record, overrides)


def make_viewer_settings(db: Session, institution: Institution, **overrides: Any) -> ViewerSettings:
    """The institution's viewer settings (the defaults unless overridden)."""
    settings = ViewerSettings(
        institution_id=institution.id,
        offer_drug=True,
        offer_health_check=True,
        offer_clinical=False,
        offer_surgery=False,
        drug_history_years=3,
        pharmacy_health_check=False,
        updated_at=NOW,
    )
    return _save(db, settings, overrides)


def make_disaster_declaration(
    db: Session,
    prefectures: tuple[str, ...] = ("13",),
    declared_by: StaffAccount | None = None,
    **overrides: Any,
) -> DisasterDeclaration:
    """An open-ended 災害時 declaration covering ``prefectures`` from :data:`NOW` (declared by
    an administrator, made when not given). Written directly, without its audit event: tests
    of the services use :func:`onshi.viewer.disaster.declare`."""
    admin = declared_by or make_staff_account(db, StaffRole.ADMINISTRATOR)
    declaration = DisasterDeclaration(
        title=f"テスト災害{_next()}",
        reason="",
        starts_at=NOW,
        ends_at=None,
        declared_by=admin.id,
        created_at=NOW,
        ended_at=None,
        ended_by=None,
    )
    _save(db, declaration, overrides)
    db.add_all(
        DisasterPrefecture(declaration_id=declaration.id, prefecture_code=code)
        for code in prefectures
    )
    db.flush()
    return declaration
