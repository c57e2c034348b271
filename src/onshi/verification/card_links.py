"""健康保険証利用登録 (card link) through a reader: ``POST /api/v1/card-links``.

The card proves possession (PIN signature over a fresh challenge); 保険者番号 + 記号 + 番号
(+ 枝番) + 生年月日 identify the person; the My Number is never used. The certificate's SHA-256
fingerprint is linked to that person. A renewed certificate (new key, new fingerprint) is
``card.not_registered`` until linked again; linking it closes the person's earlier links
(``unlinked_at``; rows are kept for the history). Failed checks do not raise: the challenge
stays spent and the web layer answers the error (the request still commits).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from onshi.audit.models import ActorKind
from onshi.audit.services import record_audit
from onshi.clock import Clock, today_jst
from onshi.errors import DomainError
from onshi.identity.models import CardCertificateLink
from onshi.pki import CertificateError, TrustStore
from onshi.verification import errors
from onshi.verification.challenges import check_challenge, find_challenge, spend_challenge
from onshi.verification.errors import VerificationError
from onshi.verification.lookup import lookup_key
from onshi.verification.proofs import verify_digest_signature
from onshi.verification.queries import symbol_number_matches
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
) -> Outcome:
    """Checks in order: body shape (raises ``verification.malformed``), challenge (unknown,
    other device, expired, used), certificate, PIN signature, identity fields (identifier
    codes), ``card_link.no_match`` (none or several persons), ``card_link.already_linked``."""
    request = parse_card_link(body)
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
        key = lookup_key(request.person)
        matches = symbol_number_matches(db, [key], today=today_jst(clock))[key]
        persons = {row.person_id for row in matches}
        if len(persons) != 1:
            raise VerificationError(errors.CARD_LINK_NO_MATCH)
        (person_id,) = persons
        existing = db.scalar(
            select(CardCertificateLink).where(
                CardCertificateLink.fingerprint_sha256 == verdict.fingerprint
            )
        )
        if existing is not None and existing.unlinked_at is None:
            raise VerificationError(errors.CARD_LINK_ALREADY_LINKED)
    except (VerificationError, CertificateError) as exc:
        return _failed(exc, institution_id)
    except DomainError as exc:  # identifier errors (400)
        return _failed(exc, institution_id)
    replaced = db.scalars(
        select(CardCertificateLink.fingerprint_sha256).where(
            CardCertificateLink.person_id == person_id,
            CardCertificateLink.unlinked_at.is_(None),
        )
    ).all()
    db.execute(
        update(CardCertificateLink)
        .where(
            CardCertificateLink.person_id == person_id,
            CardCertificateLink.unlinked_at.is_(None),
        )
        .values(unlinked_at=now)
        .execution_options(synchronize_session=False)
    )
    cert = verdict.certificate
    if existing is None:
        existing = CardCertificateLink(fingerprint_sha256=verdict.fingerprint)
        db.add(existing)
    existing.person_id = person_id
    existing.certificate_issuer = cert.issuer.rfc4514_string()[:512]
    existing.certificate_serial = f"{verdict.serial_number:X}"[:64]
    existing.not_before = verdict.not_before
    existing.not_after = verdict.not_after
    existing.linked_at = now
    existing.unlinked_at = None
    db.flush()
    record_audit(
        db,
        clock,
        actor_kind=ActorKind.DEVICE,
        actor_id=device_id,
        action="card_link.created",
        object_type="card_certificate_link",
        object_id=existing.id,
        person_id=person_id,
        institution_id=institution_id,
        details={"fingerprint": verdict.fingerprint, "replaced": list(replaced)},
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


def _failed(exc: DomainError, institution_id: int) -> Outcome:
    return Outcome(
        exc.status_code, error_code=exc.code, params=dict(exc.params), institution_id=institution_id
    )
