"""健康保険証利用登録 (card link) through a reader: ``POST /api/v1/card-links``.

The request carries only the card's proof: the user-authentication certificate and its PIN
signature over a fresh challenge. Whom the card belongs to is J-LIS's answer, never anything
typed: the portal asks J-LIS (:class:`onshi.jlis.JlisGateway`) who holds this certificate and
links the certificate's SHA-256 fingerprint to the person with that holder's 個人番号 hash. A
holder with no portal person yet gets one, made from the J-LIS record (until an insurer
registers a qualification for that 個人番号, the card answers 資格情報なし).

A renewed certificate (new key, new fingerprint) is ``card.not_registered`` until linked again;
linking it, through the same holder, closes the person's earlier links (``unlinked_at``; rows
are kept for the history). A still-open link of this certificate to someone other than its
holder (possible only with links made before this rule) is moved to the holder. Failed checks
do not raise: the challenge stays spent and the web layer answers the error (the request still
commits).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from onshi.audit.models import ActorKind
from onshi.audit.services import record_audit
from onshi.clock import Clock
from onshi.errors import DomainError
from onshi.identity.models import CardCertificateLink, Person
from onshi.jlis import JlisGateway, Resident
from onshi.jlis.simulated import SimulatedJlis, certificate_key
from onshi.pki import CertificateError, TrustStore
from onshi.verification import errors
from onshi.verification.challenges import check_challenge, find_challenge, spend_challenge
from onshi.verification.errors import VerificationError
from onshi.verification.proofs import verify_digest_signature
from onshi.verification.results import jst_instant
from onshi.verification.schemas import parse_card_link
from onshi.verification.services import Outcome


def link_card(
    db: Session,
    clock: Clock,
    trust: TrustStore | None,
    *,
    device_id: int,
    institution_id: int,
    body: Any,
    jlis: JlisGateway | None = None,
) -> Outcome:
    """Checks in order: body shape (raises ``verification.malformed``; a typed ``person`` is
    ``card_link.typed_identity``), challenge (unknown, other device, expired, used),
    certificate, PIN signature, J-LIS holder (``card_link.holder_unknown``), the holder's
    person (``card_link.holder_incomplete`` when one must be made and cannot),
    ``card_link.already_linked``. ``jlis`` defaults to the SIMULATED J-LIS on ``db``."""
    request = parse_card_link(body)
    gateway: JlisGateway = jlis if jlis is not None else SimulatedJlis(db)
    now = clock.now()
    try:
        challenge = check_challenge(
            find_challenge(db, request.challenge_id), device_id=device_id, now=now
        )
        if not spend_challenge(db, challenge, now):
            raise VerificationError(errors.CHALLENGE_USED)
        if trust is None:
            raise VerificationError(errors.TRUST_UNAVAILABLE)
        verdict = trust.verify(request.certificate, at=now)
        verify_digest_signature(verdict, challenge.challenge_hash, request.signature)
        issuer, serial = certificate_key(verdict.certificate)
        holder = gateway.holder_of_certificate(
            issuer=issuer, serial=serial, fingerprint=verdict.fingerprint, at=now
        )
        if holder is None:
            raise VerificationError(errors.CARD_LINK_HOLDER_UNKNOWN)
        person = _person_of(db, holder.resident)
        prefecture_code = holder.resident.prefecture_code
        if person is None and prefecture_code is None:
            raise VerificationError(errors.CARD_LINK_HOLDER_INCOMPLETE)
        existing = db.scalar(
            select(CardCertificateLink).where(
                CardCertificateLink.fingerprint_sha256 == verdict.fingerprint
            )
        )
        if (
            person is not None
            and existing is not None
            and existing.unlinked_at is None
            and existing.person_id == person.id
        ):
            raise VerificationError(errors.CARD_LINK_ALREADY_LINKED)
    except (VerificationError, CertificateError) as exc:
        return _failed(exc, institution_id)
    created = person is None
    if person is None:
        person = _new_person(db, holder.resident, prefecture_code or "", now)
    corrected_from = (
        existing.person_id
        if existing is not None and existing.unlinked_at is None and existing.person_id != person.id
        else None
    )
    replaced = db.scalars(
        select(CardCertificateLink.fingerprint_sha256).where(
            CardCertificateLink.person_id == person.id,
            CardCertificateLink.unlinked_at.is_(None),
        )
    ).all()
    db.execute(
        update(CardCertificateLink)
        .where(
            CardCertificateLink.person_id == person.id,
            CardCertificateLink.unlinked_at.is_(None),
        )
        .values(unlinked_at=now)
        .execution_options(synchronize_session=False)
    )
    if existing is None:
        existing = CardCertificateLink(fingerprint_sha256=verdict.fingerprint)
        db.add(existing)
    existing.person_id = person.id
    existing.certificate_issuer = issuer
    existing.certificate_serial = serial
    existing.not_before = verdict.not_before
    existing.not_after = verdict.not_after
    existing.linked_at = now
    existing.unlinked_at = None
    db.flush()
    details: dict[str, Any] = {
        "fingerprint": verdict.fingerprint,
        "replaced": list(replaced),
        "holder": "jlis",
        "person_created": created,
    }
    if corrected_from is not None:
        details["moved_from_person"] = corrected_from
    record_audit(
        db,
        clock,
        actor_kind=ActorKind.DEVICE,
        actor_id=device_id,
        action="card_link.created",
        object_type="card_certificate_link",
        object_id=existing.id,
        person_id=person.id,
        institution_id=institution_id,
        details=details,
    )
    return Outcome(
        201,
        body={
            "linked_at": jst_instant(now),
            "certificate": {
                "not_after": jst_instant(verdict.not_after),
                "expiry_warning": verdict.expiry_warning,
                "in_grace": verdict.in_grace,
            },
            "replaced_links": len(replaced),
        },
        institution_id=institution_id,
    )


def _person_of(db: Session, resident: Resident) -> Person | None:
    return db.scalar(select(Person).where(Person.my_number_hash == resident.my_number_hash))


def _new_person(db: Session, resident: Resident, prefecture_code: str, now: datetime) -> Person:
    """A portal person for a J-LIS holder nobody registered yet (the 5 items as J-LIS has them);
    no member record is attached, so a card check answers 資格情報なし."""
    person = Person(
        family_name=resident.family_name[:64],
        given_name=resident.given_name[:64],
        family_name_kana=resident.family_name_kana[:128],
        given_name_kana=resident.given_name_kana[:128],
        birth_date=resident.birth_date,
        sex=resident.sex,
        postal_code=resident.postal_code,
        address=resident.address[:256],
        prefecture_code=prefecture_code,
        my_number_hash=resident.my_number_hash,
        created_at=now,
    )
    db.add(person)
    db.flush()
    return person


def _failed(exc: DomainError, institution_id: int) -> Outcome:
    return Outcome(
        exc.status_code, error_code=exc.code, params=dict(exc.params), institution_id=institution_id
    )
