"""健康保険証利用登録 by identity: the card's holder is J-LIS's answer, never typed data.

Includes the regression for the takeover the old protocol allowed: someone else's card, its own
PIN and the victim's printed 保険者番号 / 記号 / 番号 / 生年月日 re-linked the victim
(``replaced_links: 1``; the victim's card then answered ``card.not_registered`` and the other
card returned the victim's qualification)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onshi.audit.models import AuditEvent
from onshi.clock import FrozenClock
from onshi.identity.models import CardCertificateLink, Person
from onshi.jlis.models import SimulatedJlisResident
from onshi.jlis.simulated import IssuedCertificate, SimulatedJlis
from onshi.pki import TrustStore
from onshi.pki.devpki import CardRecord
from onshi.verification.card_links import link_card
from onshi.verification.errors import VerificationError
from tests.factories import (
    make_card_link,
    make_insurer,
    make_person,
    make_qualification,
    make_resident_record,
)
from tests.integration.verification.conftest import IssueCard, Reader
from tests.integration.verification.test_submissions import _submit


def _card_for(reader: Reader, issue_card: IssueCard, resident: SimulatedJlisResident) -> CardRecord:
    """A card issued to ``resident`` and recorded so in the SIMULATED J-LIS."""
    card = issue_card(person=f"r{resident.id}", birth_date=resident.birth_date)
    _record(reader, card, resident)
    return card


def _record(reader: Reader, card: CardRecord, resident: SimulatedJlisResident) -> None:
    issued = IssuedCertificate.of(
        reader.pki.card_certificate(card.card_id), issued_at=reader.clock.now()
    )
    SimulatedJlis(reader.db).record_issuance(resident.id, issued)


def _body(reader: Reader, card: CardRecord, **extra: Any) -> dict[str, Any]:
    issued = reader.challenge()
    return {
        "challenge_id": issued.challenge_id,
        "certificate": reader.certificate(card),
        "signature": reader.sign(card, issued.challenge),
        **extra,
    }


def _link(reader: Reader, trust: TrustStore, body: dict[str, Any]) -> Any:
    return link_card(
        reader.db,
        reader.clock,
        trust,
        device_id=reader.device.id,
        institution_id=reader.institution.id,
        body=body,
    )


def _active_links(db: Session, person: Person) -> list[str]:
    return list(
        db.scalars(
            select(CardCertificateLink.fingerprint_sha256).where(
                CardCertificateLink.person_id == person.id,
                CardCertificateLink.unlinked_at.is_(None),
            )
        )
    )


def test_link_goes_to_the_holder_then_renewal_relinks_through_the_same_holder(  # noqa: PLR0917
    db: Session,
    reader: Reader,
    issue_card: IssueCard,
    trust: TrustStore,
    clock: FrozenClock,
    trust_at: Any,
) -> None:
    person = make_person(db)
    make_qualification(db, person)
    resident = make_resident_record(db, person)
    card = _card_for(reader, issue_card, resident)
    assert _submit(reader, trust, reader.pin_body(card)).error_code == "card.not_registered"

    linked = _link(reader, trust, _body(reader, card))
    assert (linked.status_code, linked.body["replaced_links"]) == (201, 0)
    assert _active_links(db, person) == [card.fingerprint]
    assert _submit(reader, trust, reader.pin_body(card)).body["result_code"] == 1
    again = _link(reader, trust, _body(reader, card))
    assert (again.error_code, again.status_code) == ("card_link.already_linked", 409)

    clock.advance(timedelta(days=2))
    renewed = reader.pki.renew(card.card_id, issued_on=date(2026, 4, 3), at=clock.now())
    fresh = trust_at(clock.now())
    assert _submit(reader, fresh, reader.pin_body(renewed)).error_code == "card.not_registered"
    # J-LIS does not know the new certificate yet: nobody can be named its holder.
    unknown = _link(reader, fresh, _body(reader, renewed))
    assert (unknown.error_code, unknown.status_code) == ("card_link.holder_unknown", 422)
    _record(reader, renewed, resident)
    relinked = _link(reader, fresh, _body(reader, renewed))
    assert relinked.status_code == 201
    assert relinked.body["replaced_links"] == 1
    assert _active_links(db, person) == [renewed.fingerprint]
    assert _submit(reader, fresh, reader.pin_body(renewed)).body["result_code"] == 1
    events = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "card_link.created").order_by(AuditEvent.id)
    ).all()
    assert [event.person_id for event in events] == [person.id, person.id]
    assert events[-1].details["replaced"] == [card.fingerprint]


def test_takeover_with_someone_elses_card_and_the_victims_printed_details_is_impossible(
    db: Session, reader: Reader, issue_card: IssueCard, trust: TrustStore
) -> None:
    """The old protocol found the person by the typed 保険者番号 + 記号 + 番号 + 生年月日, so an
    attacker's own card, own PIN and the victim's printed card details re-linked the victim to
    the attacker's card (``replaced_links: 1``). Now the typed details are refused, and the
    attacker's card can only ever be linked to the attacker."""
    insurer = make_insurer(db)
    victim = make_person(db, given_name="花子", given_name_kana="ハナコ")
    victim_qualification = make_qualification(db, victim, insurer)
    victim_card = _card_for(reader, issue_card, make_resident_record(db, victim))
    assert _link(reader, trust, _body(reader, victim_card)).status_code == 201

    attacker_resident = make_resident_record(db, make_person(db))
    attacker = db.scalar(
        select(Person).where(Person.my_number_hash == attacker_resident.my_number_hash)
    )
    assert attacker is not None
    attacker_card = _card_for(reader, issue_card, attacker_resident)
    printed = {
        "insurer_number": insurer.number,
        "symbol": victim_qualification.symbol,
        "number": victim_qualification.number,
        "branch": victim_qualification.branch,
        "birth_date": victim.birth_date.isoformat(),
    }

    # The old request: attacker's card and PIN signature + the victim's printed details.
    with pytest.raises(VerificationError) as refused:
        _link(reader, trust, _body(reader, attacker_card, person=printed))
    assert (refused.value.code, refused.value.status_code) == ("card_link.typed_identity", 400)
    assert _active_links(db, victim) == [victim_card.fingerprint]
    assert _active_links(db, attacker) == []

    # What the attacker's card can do: link to its own holder, replacing nobody's link.
    own = _link(reader, trust, _body(reader, attacker_card))
    assert (own.status_code, own.body["replaced_links"]) == (201, 0)
    assert _active_links(db, attacker) == [attacker_card.fingerprint]
    assert _active_links(db, victim) == [victim_card.fingerprint]

    victims_check = _submit(reader, trust, reader.pin_body(victim_card))
    assert victims_check.body["result_code"] == 1
    assert victims_check.body["qualification"]["number"] == victim_qualification.number
    attackers_check = _submit(reader, trust, reader.pin_body(attacker_card))
    assert attackers_check.body["result_code"] == 4  # the attacker has no qualification
    assert attackers_check.body.get("qualification") is None


def test_a_holder_without_a_portal_person_gets_one_from_jlis(
    db: Session, reader: Reader, issue_card: IssueCard, trust: TrustStore
) -> None:
    resident = make_resident_record(db)  # made with a person: drop that person again
    orphan = db.scalar(select(Person).where(Person.my_number_hash == resident.my_number_hash))
    assert orphan is not None
    orphan.my_number_hash = None
    db.flush()
    card = _card_for(reader, issue_card, resident)
    persons_before = db.scalar(select(func.count(Person.id)))

    linked = _link(reader, trust, _body(reader, card))

    assert linked.status_code == 201
    created = db.scalar(select(Person).where(Person.my_number_hash == resident.my_number_hash))
    assert created is not None
    assert created.id != orphan.id
    assert (created.family_name, created.given_name) == (resident.family_name, resident.given_name)
    assert created.birth_date == resident.birth_date
    assert db.scalar(select(func.count(Person.id))) == (persons_before or 0) + 1
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "card_link.created"))
    assert event is not None
    assert event.details["person_created"] is True
    # registered for a person no insurer has registered yet: 資格情報なし
    assert _submit(reader, trust, reader.pin_body(card)).body["result_code"] == 4


def test_unknown_revoked_and_incomplete_holders_link_nothing(
    db: Session, reader: Reader, issue_card: IssueCard, trust: TrustStore, clock: FrozenClock
) -> None:
    unknown_card = issue_card()  # never recorded in J-LIS
    unknown = _link(reader, trust, _body(reader, unknown_card))
    assert (unknown.error_code, unknown.status_code) == ("card_link.holder_unknown", 422)

    resident = make_resident_record(db)
    revoked_card = _card_for(reader, issue_card, resident)
    issuer = reader.pki.ca_certificate().subject.rfc4514_string()
    SimulatedJlis(db).record_revocation(
        issuer=issuer, serial=f"{revoked_card.serial_number:X}", at=clock.now(), reason="k"
    )
    revoked = _link(reader, trust, _body(reader, revoked_card))
    assert revoked.error_code == "card_link.holder_unknown"

    no_prefecture = SimulatedJlisResident(
        my_number_hash="f" * 64,
        family_name="鈴木",
        given_name="一郎",
        family_name_kana="スズキ",
        given_name_kana="イチロウ",
        birth_date=date(1970, 1, 2),
        sex=resident.sex,
        postal_code=None,
        address="千代田区霞が関1-2-2",
        prefecture_code=None,
    )
    db.add(no_prefecture)
    db.flush()
    incomplete = _link(reader, trust, _body(reader, _card_for(reader, issue_card, no_prefecture)))
    assert incomplete.error_code == "card_link.holder_incomplete"

    bad = _body(reader, _card_for(reader, issue_card, make_resident_record(db)))
    bad["signature"] = reader.sign(unknown_card, b"not the challenge")
    assert _link(reader, trust, bad).error_code == "certificate.bad_signature"
    assert _link(reader, trust, bad).error_code == "challenge.used"
    assert db.scalar(select(func.count(CardCertificateLink.id))) == 0


def test_a_link_made_to_the_wrong_person_moves_to_the_holder(
    db: Session, reader: Reader, issue_card: IssueCard, trust: TrustStore
) -> None:
    """A link left by the old typed-data protocol on someone who is not the holder."""
    holder = make_person(db)
    wrong = make_person(db)
    card = _card_for(reader, issue_card, make_resident_record(db, holder))
    make_card_link(db, wrong, fingerprint_sha256=card.fingerprint)

    moved = _link(reader, trust, _body(reader, card))

    assert moved.status_code == 201
    assert _active_links(db, holder) == [card.fingerprint]
    assert _active_links(db, wrong) == []
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "card_link.created"))
    assert event is not None
    assert event.details["moved_from_person"] == wrong.id
