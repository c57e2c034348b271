"""Property test of the viewer's gate over generated roles, institutions, times, consents, holds,
data kinds, modes and 災害時 declarations: no read succeeds without a valid consent (or a special
mode whose rules hold), and every successful read leaves exactly one access-log row naming what
allowed it; a refused read leaves none.

The oracle below is written from the rules (docs/viewer.md), independently of the gate's code:
if the gate and the oracle disagree, one of them is wrong."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onshi.accounts.models import StaffRole
from onshi.audit.models import AccessPurpose, DataAccess
from onshi.clock import FrozenClock
from onshi.consent.models import Consent, ConsentKind, ConsentValue
from onshi.institutions.models import InstitutionKind
from onshi.qualification.models import LinkStatus
from onshi.viewer.disaster_models import DisasterDeclaration
from onshi.viewer.gate import Refusal, Viewer
from onshi.viewer.kinds import AccessMode, ViewKind
from onshi.viewer.models import EmergencyView
from onshi.viewer.services import view_clinical, view_drugs, view_health_checks
from tests.factories import (
    NOW,
    make_consent,
    make_disaster_declaration,
    make_drug_record,
    make_institution,
    make_person,
    make_qualification,
    make_staff_account,
    make_verification_event,
    make_viewer_settings,
)

T = TypeVar("T")
CLINIC_ROLES = [StaffRole.RECEPTION, StaffRole.DOCTOR, StaffRole.DENTIST, StaffRole.PHARMACIST]
QUALIFIED = {StaffRole.DOCTOR, StaffRole.DENTIST, StaffRole.PHARMACIST}
#: Every role that can hold a session, qualified ones more often.
ROLES = [*sorted(QUALIFIED) * 3, *CLINIC_ROLES, StaffRole.INSURER_OPERATOR, StaffRole.ADMINISTRATOR]
VIEWING = [
    ConsentKind.DRUG,
    ConsentKind.HEALTH_CHECK,
    ConsentKind.CLINICAL,
    ConsentKind.SURGERY,
    ConsentKind.COMPREHENSIVE,
]


@dataclass(frozen=True)
class ConsentSpec:
    kind: ConsentKind
    value: ConsentValue
    registered_hours_ago: int  # relative to the moment of the read
    home_visit: bool
    archived: bool


def _mostly(usual: T, *others: T) -> st.SearchStrategy[T]:
    """``usual`` three times in four (so that granted reads are not rare), else one of
    ``others``."""
    return st.sampled_from([usual, usual, usual, *others]) if others else st.just(usual)


consents = st.builds(
    ConsentSpec,
    kind=st.sampled_from(VIEWING),
    value=_mostly(ConsentValue.GIVEN, ConsentValue.NOT_GIVEN, ConsentValue.UNOBTAINABLE),
    registered_hours_ago=st.integers(min_value=0, max_value=30),
    home_visit=_mostly(False, True),
    archived=_mostly(False, True),
)


@dataclass(frozen=True)
class Case:
    role: StaffRole
    institution_kind: InstitutionKind
    at_other_institution: bool  # the reader works elsewhere than where the consents were given
    emergency_permission: bool
    offer_clinical: bool
    pharmacy_health_check: bool
    link: LinkStatus
    consents: tuple[ConsentSpec, ...]
    kind: ViewKind
    mode: AccessMode
    reason: str
    card_checked_here: bool
    declared: bool  # a 災害時 declaration covers the institutions' prefecture now


@st.composite
def cases(draw: st.DrawFn) -> Case:
    kind = draw(st.sampled_from(list(ViewKind)))
    # Consents mostly of the kind asked (or 包括同意), so that granted reads are not rare.
    own = ConsentKind(kind.value)
    specs = draw(
        st.lists(
            consents.map(
                lambda spec: (
                    spec
                    if spec.kind in {ConsentKind.COMPREHENSIVE, ConsentKind.SURGERY}
                    else ConsentSpec(
                        own, spec.value, spec.registered_hours_ago, spec.home_visit, spec.archived
                    )
                )
            )
            | consents,
            max_size=3,
        )
    )
    return Case(
        role=draw(
            st.sampled_from([*sorted(QUALIFIED) * 2, *CLINIC_ROLES, StaffRole.ADMINISTRATOR])
        ),
        institution_kind=draw(st.sampled_from([InstitutionKind.HOSPITAL, *InstitutionKind])),
        at_other_institution=draw(_mostly(False, True)),
        emergency_permission=draw(_mostly(True, False)),
        offer_clinical=draw(_mostly(True, False)),
        pharmacy_health_check=draw(st.booleans()),
        link=draw(_mostly(LinkStatus.LINKED, LinkStatus.LINKED_CONFIRM, LinkStatus.HELD)),
        consents=tuple(specs),
        kind=kind,
        mode=draw(_mostly(AccessMode.CONSENT, AccessMode.EMERGENCY, AccessMode.DISASTER)),
        reason=draw(_mostly("意識障害で搬送", "", "  ")),
        card_checked_here=draw(_mostly(True, False)),
        declared=draw(st.booleans()),
    )


def _valid(spec: ConsentSpec) -> bool:
    """An outpatient consent lasts 24 hours from registration; a home-visit one (no expiry)
    while care continues; a refused or archived one never allows anything."""
    if spec.value is not ConsentValue.GIVEN or spec.archived:
        return False
    return spec.home_visit or spec.registered_hours_ago < 24


def _expected(case: Case) -> AccessPurpose | None:
    """The oracle: the purpose a read must be logged with, or None when it must be refused."""
    if case.role not in QUALIFIED:
        return None
    if case.kind is ViewKind.CLINICAL and not case.offer_clinical:
        return None
    if (
        case.kind is ViewKind.HEALTH_CHECK
        and case.institution_kind is InstitutionKind.PHARMACY
        and not case.pharmacy_health_check
    ):
        return None
    if case.link is LinkStatus.HELD:
        return None
    if case.mode is AccessMode.DISASTER:
        return AccessPurpose.DISASTER if case.declared else None
    if case.mode is AccessMode.EMERGENCY:
        checked = case.card_checked_here and not case.at_other_institution
        ok = (
            case.institution_kind is InstitutionKind.HOSPITAL
            and case.emergency_permission
            and case.reason.strip() != ""
            and checked
        )
        return AccessPurpose.EMERGENCY if ok else None
    if case.at_other_institution:
        return None
    allowing = {ConsentKind(case.kind.value), ConsentKind.COMPREHENSIVE}
    if any(spec.kind in allowing and _valid(spec) for spec in case.consents):
        return AccessPurpose.NORMAL
    return None


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=cases())
def test_no_read_without_a_basis_and_one_log_row_per_read(
    db: Session, clock: FrozenClock, case: Case
) -> None:
    # Each example in a savepoint rolled back afterwards: examples never see each other's rows.
    savepoint = db.begin_nested()
    try:
        _check(db, clock, case)
    finally:
        savepoint.rollback()


def _check(db: Session, clock: FrozenClock, case: Case) -> None:
    clock.set(NOW)
    read_at = NOW + timedelta(hours=40)
    # Fresh objects per example (the counters keep them apart; no cleanup between examples).
    where_consented = make_institution(db, kind=case.institution_kind)
    where_reading = (
        make_institution(db, kind=case.institution_kind)
        if case.at_other_institution
        else where_consented
    )
    make_viewer_settings(
        db,
        where_reading,
        offer_clinical=case.offer_clinical,
        pharmacy_health_check=case.pharmacy_health_check,
    )
    declaration = (
        make_disaster_declaration(db, (where_reading.prefecture_code,), starts_at=NOW)
        if case.declared
        else None
    )
    person = make_person(db)
    member = make_qualification(db, person, link_status=case.link)
    make_drug_record(db, person, qualification_id=member.id)
    if case.card_checked_here:
        make_verification_event(db, where_consented, member, person_id=person.id)
    for spec in case.consents:
        registered = read_at - timedelta(hours=spec.registered_hours_ago)
        make_consent(
            db,
            person,
            where_consented,
            kind=spec.kind,
            value=spec.value,
            registered_at=registered,
            expires_at=None if spec.home_visit else registered + timedelta(hours=24),
            home_visit=spec.home_visit,
            archived_at=registered if spec.archived else None,
        )
    account = make_staff_account(
        db,
        case.role,
        where_reading,
        emergency_permission=case.emergency_permission and case.role in QUALIFIED,
    )
    viewer = Viewer(account.id, account.role, account.institution_id, account.emergency_permission)
    clock.set(read_at)
    read = {
        ViewKind.DRUG: view_drugs,
        ViewKind.HEALTH_CHECK: view_health_checks,
        ViewKind.CLINICAL: view_clinical,
    }[case.kind]
    result = read(db, clock, viewer=viewer, person_id=person.id, mode=case.mode, reason=case.reason)

    _check_log(
        db, case, result, read_at, person.id, member.id, account.id, where_reading.id, declaration
    )


def _check_log(  # noqa: PLR0917 - what the example made, to compare the log with
    db: Session,
    case: Case,
    result: object,
    read_at: datetime,
    person_id: int,
    member_id: int,
    account_id: int,
    institution_id: int,
    declaration: DisasterDeclaration | None,
) -> None:
    rows = db.scalars(select(DataAccess).where(DataAccess.person_id == person_id)).all()
    expected = _expected(case)
    event(f"outcome: {'refused' if expected is None else expected.value}")
    if expected is None:
        assert isinstance(result, Refusal), case
        assert rows == []
        return
    assert not isinstance(result, Refusal), (case, result)
    assert len(rows) == 1
    (row,) = rows
    assert row.purpose is expected
    assert row.staff_account_id == account_id
    assert row.staff_role == case.role.value
    assert row.institution_id == institution_id
    assert row.qualification_id == member_id
    assert row.data_kind.value == case.kind.value
    emergency = select(EmergencyView.reason).where(EmergencyView.access_id == row.id)
    if expected is AccessPurpose.NORMAL:
        # the consent named is one of this person's, at this institution, valid for this kind
        assert row.consent_id is not None
        assert row.consent_id == result.grant.consent_id  # type: ignore[attr-defined]
        consent = db.get(Consent, row.consent_id)
        assert consent is not None
        assert consent.person_id == person_id
        assert consent.institution_id == institution_id
        assert consent.kind.value in {case.kind.value, ConsentKind.COMPREHENSIVE.value}
        assert consent.value is ConsentValue.GIVEN
        assert consent.archived_at is None
        assert consent.home_visit or (
            consent.expires_at is not None and read_at < consent.expires_at
        )
        assert row.consent_expires_at == consent.expires_at
        assert row.disaster_declaration_id is None
        assert db.scalar(select(func.count()).select_from(emergency.subquery())) == 0
    elif expected is AccessPurpose.DISASTER:
        assert declaration is not None
        assert row.consent_id is None
        assert row.disaster_declaration_id == declaration.id
        assert db.scalar(emergency) is None
    else:
        assert row.consent_id is None
        assert row.disaster_declaration_id is None
        assert db.scalar(emergency) == case.reason.strip()
