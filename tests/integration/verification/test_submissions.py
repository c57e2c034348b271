"""Card submissions: every error code in the contract's order, replays, events and consents."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onshi.audit.models import AuditEvent, DataAccess
from onshi.clock import FrozenClock
from onshi.consent.models import Consent, ConsentKind, ConsentValue
from onshi.pki import TrustStore
from onshi.settings import ConsentRules
from onshi.verification.challenges import b64u_encode
from onshi.verification.errors import VerificationError
from onshi.verification.models import VerificationEvent, VerificationMethod, VerificationSubmission
from onshi.verification.services import submit_card_verification
from tests.factories import (
    make_card_link,
    make_person,
    make_qualification,
    make_reader_device,
)
from tests.integration.verification.conftest import SEED_RULES, IssueCard, Reader


def _submit(
    reader: Reader, trust: TrustStore | None, body: object, rules: ConsentRules = SEED_RULES
):
    return submit_card_verification(
        reader.db,
        reader.clock,
        trust,
        rules,
        device_id=reader.device.id,
        institution_id=reader.institution.id,
        device_mode=reader.device.mode,
        body=body,
    )


def _linked(reader: Reader, issue_card: IssueCard):
    person = make_person(reader.db)
    qualification = make_qualification(reader.db, person)
    card = issue_card(person=str(person.id), birth_date=person.birth_date)
    make_card_link(reader.db, person, fingerprint_sha256=card.fingerprint)
    return person, qualification, card


def _events(db: Session) -> list[VerificationEvent]:
    return list(db.scalars(select(VerificationEvent).order_by(VerificationEvent.id)))


def test_pin_verification_valid_with_consents_event_and_access_log(
    db: Session, reader: Reader, issue_card: IssueCard, trust: TrustStore, clock: FrozenClock
) -> None:
    person, qualification, card = _linked(reader, issue_card)
    outcome = _submit(reader, trust, reader.pin_body(card))
    assert outcome.ok
    assert outcome.status_code == 200
    body = outcome.body
    assert body["result_code"] == 1
    assert body["qualification"]["number"] == qualification.number
    assert body["qualification"]["name_kana_half_width"] == "ﾔﾏﾀﾞ ﾀﾛｳ"
    assert body["qualification"]["limit_certifications"] == []  # consented: provided (none)
    assert body["certificate"]["in_grace"] is False
    kinds = {flag["kind"]: flag for flag in body["consents"]}
    assert set(kinds) == {"health_check", "drug", "clinical", "surgery", "limit_info"}
    assert kinds["drug"]["value"] == "1"
    assert kinds["clinical"]["value"] == "0"
    registered = datetime.fromisoformat(kinds["drug"]["registered_at"])
    assert datetime.fromisoformat(kinds["drug"]["expires_at"]) - registered == timedelta(hours=24)
    (event,) = _events(db)
    assert event.method is VerificationMethod.CARD_PIN
    assert event.result_code == 1
    assert event.person_id == person.id
    assert event.device_id == reader.device.id
    assert event.error_code is None
    assert db.scalar(select(func.count(Consent.id)).where(Consent.person_id == person.id)) == 5
    access = db.scalar(select(DataAccess).where(DataAccess.verification_event_id == event.id))
    assert access is not None
    assert access.institution_id == reader.institution.id
    audits = db.scalars(select(AuditEvent.action)).all()
    assert audits.count("consent.recorded") == 5


def test_limit_info_not_consented_hides_limits_unless_the_2024_rule(
    db: Session, reader: Reader, issue_card: IssueCard, trust: TrustStore
) -> None:
    _person, _qualification, card = _linked(reader, issue_card)
    outcome = _submit(reader, trust, reader.pin_body(card, limit_info=False))
    assert outcome.body["qualification"]["limit_certifications"] is None
    rules = ConsentRules(comprehensive_consent=True, limit_consent_step=False)
    outcome = _submit(
        reader,
        trust,
        reader.pin_body(card, consents={"comprehensive": True}, limit_info=None),
        rules,
    )
    assert outcome.ok, outcome.error_code
    assert outcome.body["qualification"]["limit_certifications"] == []
    assert [flag["kind"] for flag in outcome.body["consents"]] == ["comprehensive"]


def test_face_matched_and_not_matched(
    db: Session, reader: Reader, issue_card: IssueCard, trust: TrustStore
) -> None:
    _person, _qualification, card = _linked(reader, issue_card)
    assert _submit(reader, trust, reader.face_body(card)).body["result_code"] == 1
    failed = _submit(reader, trust, reader.face_body(card, matched=False))
    assert failed.error_code == "face.not_matched"
    assert failed.status_code == 422
    assert _events(db)[-1].error_code == "face.not_matched"
    assert _events(db)[-1].method is VerificationMethod.CARD_FACE


def test_replay_same_body_returns_stored_result_without_second_event(
    db: Session, reader: Reader, issue_card: IssueCard, trust: TrustStore
) -> None:
    _person, _qualification, card = _linked(reader, issue_card)
    body = reader.pin_body(card)
    first = _submit(reader, trust, body)
    again = _submit(reader, trust, dict(body))
    assert again.replayed
    assert again.body == first.body
    assert again.status_code == 200
    assert len(_events(db)) == 1
    other = _submit(reader, trust, {**body, "consents": {**body["consents"], "surgery": True}})
    assert other.error_code == "challenge.used"
    assert other.status_code == 409
    assert [e.error_code for e in _events(db)] == [None, "challenge.used"]


def test_replay_of_a_failed_submission_returns_the_same_error(
    db: Session, reader: Reader, issue_card: IssueCard, trust: TrustStore
) -> None:
    card = issue_card()
    body = reader.pin_body(card)
    first = _submit(reader, trust, body)
    assert first.error_code == "card.not_registered"
    again = _submit(reader, trust, body)
    assert again.replayed
    assert again.error_code == "card.not_registered"
    assert len(_events(db)) == 1


def test_challenge_errors_in_order(
    db: Session, reader: Reader, issue_card: IssueCard, trust: TrustStore, clock: FrozenClock
) -> None:
    _person, _qualification, card = _linked(reader, issue_card)
    unknown = reader.pin_body(card, challenge_id=b64u_encode(b"\0" * 16))
    assert _submit(reader, trust, unknown).error_code == "challenge.unknown"
    assert _submit(reader, trust, unknown).status_code == 404

    other_device = make_reader_device(db, reader.institution)
    foreign = reader.pin_body(card)
    outcome = submit_card_verification(
        db,
        clock,
        trust,
        SEED_RULES,
        device_id=other_device.id,
        institution_id=reader.institution.id,
        device_mode=other_device.mode,
        body=foreign,
    )
    assert (outcome.error_code, outcome.status_code) == ("challenge.other_device", 403)
    # The rightful device can still use it.
    assert _submit(reader, trust, foreign).ok

    issued = reader.challenge()
    expiring = reader.pin_body(card, challenge=issued)
    clock.advance(timedelta(seconds=119))
    still = _submit(reader, trust, expiring)
    assert still.ok
    late = reader.pin_body(card, challenge=reader.challenge())
    clock.advance(timedelta(seconds=120))
    expired = _submit(reader, trust, late)
    assert (expired.error_code, expired.status_code) == ("challenge.expired", 422)
    assert all(e.institution_id == reader.institution.id for e in _events(db))


def test_certificate_errors(  # noqa: PLR0917 - pytest fixtures
    db: Session,
    reader: Reader,
    issue_card: IssueCard,
    trust: TrustStore,
    trust_at: Callable[[datetime], TrustStore],
    clock: FrozenClock,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    _person, _qualification, card = _linked(reader, issue_card)
    garbage = reader.pin_body(card, certificate=b64u_encode(b"\x30\x03abc"))
    assert _submit(reader, trust, garbage).error_code == "certificate.malformed"

    from onshi.pki.devpki import DevelopmentPKI

    stranger = DevelopmentPKI(tmp_path_factory.mktemp("stranger-pki"))
    stranger.init(at=clock.now() - timedelta(days=400), crl_url="http://127.0.0.1/crl.pem")
    foreign_card = stranger.issue(
        person="x", birth_date=date(1980, 1, 1), issued_on=date(2025, 6, 1)
    )
    foreign_reader = Reader(db, clock, stranger, reader.institution, reader.device)
    outcome = _submit(reader, trust, foreign_reader.pin_body(foreign_card))
    assert outcome.error_code == "certificate.untrusted"

    future = issue_card(issued_on=date(2026, 4, 10))
    assert _submit(reader, trust, reader.pin_body(future)).error_code == "certificate.not_yet_valid"

    wrong = reader.pin_body(card)
    wrong["proof"]["signature"] = reader.sign(card, b"another challenge")
    assert _submit(reader, trust, wrong).error_code == "certificate.bad_signature"

    assert _submit(reader, None, reader.pin_body(card)).status_code == 503

    stale_body = reader.pin_body(card)
    clock.advance(timedelta(days=31))
    assert _submit(reader, trust, stale_body).error_code in {"challenge.expired"}
    assert _submit(reader, trust, reader.pin_body(card)).error_code == "certificate.crl_stale"

    revoked_card = issue_card()
    reader.pki.revoke(revoked_card.card_id, at=clock.now())
    fresh = trust_at(clock.now())
    assert _submit(reader, fresh, reader.pin_body(revoked_card)).error_code == "certificate.revoked"

    # Past the 5th birthday and the 3-month grace.
    clock.set(card.not_after + timedelta(days=100))
    expired = _submit(reader, trust_at(clock.now()), reader.pin_body(card))
    assert expired.error_code == "certificate.expired"
    codes = [e.error_code for e in _events(db)]
    assert "certificate.untrusted" in codes
    assert "certificate.expired" in codes


def test_in_grace_certificate_is_accepted_and_flagged(
    db: Session,
    reader: Reader,
    issue_card: IssueCard,
    trust_at: Callable[[datetime], TrustStore],
    clock: FrozenClock,
) -> None:
    _person, _qualification, card = _linked(reader, issue_card)
    clock.set(card.not_after + timedelta(days=10))
    outcome = _submit(reader, trust_at(clock.now()), reader.pin_body(card))
    assert outcome.ok, outcome.error_code
    assert outcome.body["certificate"]["in_grace"] is True


@pytest.mark.parametrize(
    ("consents", "limit_info"),
    [
        ({"drug": True}, True),
        ({"health_check": True, "drug": True, "clinical": True, "surgery": "yes"}, True),
        ({"comprehensive": True}, True),
        ({"health_check": True, "drug": True, "clinical": True, "surgery": True}, None),
        (None, True),
    ],
)
def test_bad_consents(  # noqa: PLR0917 - pytest fixtures
    db: Session,
    reader: Reader,
    issue_card: IssueCard,
    trust: TrustStore,
    consents: object,
    limit_info: object,
) -> None:
    _person, _qualification, card = _linked(reader, issue_card)
    outcome = _submit(
        reader, trust, reader.pin_body(card, consents=consents, limit_info=limit_info)
    )
    assert (outcome.error_code, outcome.status_code) == ("verification.bad_consents", 400)
    assert db.scalar(select(func.count(Consent.id))) == 0


def test_card_not_registered_and_unlinked(
    db: Session, reader: Reader, issue_card: IssueCard, trust: TrustStore, clock: FrozenClock
) -> None:
    card = issue_card()
    assert _submit(reader, trust, reader.pin_body(card)).error_code == "card.not_registered"
    person = make_person(db)
    make_card_link(db, person, fingerprint_sha256=card.fingerprint, unlinked_at=clock.now())
    assert _submit(reader, trust, reader.pin_body(card)).error_code == "card.not_registered"


@pytest.mark.parametrize(
    "body",
    [
        None,
        {"challenge_id": "x"},
        {"challenge_id": "x", "certificate": "@@", "method": "pin", "proof": {}},
        {"challenge_id": "x", "certificate": "MA", "method": "palm", "proof": {}},
        {"challenge_id": "x", "certificate": "MA", "method": "pin", "proof": {}},
        {"challenge_id": "x", "certificate": "MA", "method": "face", "proof": {"face": {}}},
        {
            "challenge_id": "x",
            "certificate": "MA",
            "method": "visual",
            "proof": {"signature": "MA"},
        },
    ],
)
def test_malformed_body_raises_and_writes_nothing(
    db: Session, reader: Reader, trust: TrustStore, body: object
) -> None:
    with pytest.raises(VerificationError) as caught:
        _submit(reader, trust, body)
    assert caught.value.code == "verification.malformed"
    assert caught.value.status_code == 400
    assert _events(db) == []
    assert db.scalar(select(func.count(VerificationSubmission.id))) == 0


def test_patient_number_from_the_reader_is_registered_and_echoed(
    db: Session, reader: Reader, issue_card: IssueCard, trust: TrustStore
) -> None:
    _person, _qualification, card = _linked(reader, issue_card)
    outcome = _submit(reader, trust, reader.pin_body(card, institution_patient_number="A-1234"))
    assert outcome.body["institution_patient_number"] == "A-1234"
    again = _submit(reader, trust, reader.pin_body(card))
    assert again.body["institution_patient_number"] == "A-1234"
    other_person, _q, other_card = _linked(reader, issue_card)
    taken = _submit(reader, trust, reader.pin_body(other_card, institution_patient_number="A-1234"))
    assert (taken.error_code, taken.status_code) == ("patient_number.taken", 409)
    assert (
        db.scalar(select(func.count(Consent.id)).where(Consent.person_id == other_person.id)) == 0
    )
    assert ConsentKind.DRUG
    assert ConsentValue.GIVEN
