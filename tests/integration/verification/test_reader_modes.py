"""Reader modes (無人運転 / 目視確認) at submission time: a 目視 submission needs a
reader in 目視確認 mode (``verification.visual_not_enabled``, 409, challenge left unspent);
in 目視確認 mode face and PIN stay allowed (the card's own proofs are stronger than the staff's
check)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onshi.clock import FrozenClock
from onshi.devices.models import ReaderMode
from onshi.pki import TrustStore
from onshi.verification.models import (
    VerificationChallenge,
    VerificationEvent,
    VerificationMethod,
)
from tests.integration.verification.conftest import IssueCard, Reader
from tests.integration.verification.test_submissions import _linked, _submit


def _unattended_visual_body(reader: Reader, card: Any, **overrides: Any) -> dict[str, Any]:
    body = reader.pin_body(card, **overrides)
    body["method"] = "visual"
    body["proof"] = {}
    return body


def _challenge_used_at(db: Session, public_id: str) -> object:
    db.expire_all()
    return db.scalar(
        select(VerificationChallenge.used_at).where(VerificationChallenge.public_id == public_id)
    )


def test_visual_from_an_unattended_reader_is_refused_and_the_challenge_kept(
    db: Session, reader: Reader, issue_card: IssueCard, trust: TrustStore
) -> None:
    _person, _qualification, card = _linked(reader, issue_card)
    issued = reader.challenge()
    assert reader.device.mode is ReaderMode.UNATTENDED
    refused = _submit(reader, trust, _unattended_visual_body(reader, card, challenge=issued))
    assert (refused.error_code, refused.status_code) == ("verification.visual_not_enabled", 409)
    assert refused.verification_event_id is not None  # shown on the reception screen
    event = db.get(VerificationEvent, refused.verification_event_id)
    assert event is not None
    assert event.method is VerificationMethod.CARD_VISUAL
    assert event.error_code == "verification.visual_not_enabled"
    assert event.device_id == reader.device.id
    assert _challenge_used_at(db, issued.challenge_id) is None
    # The same challenge still serves the patient's PIN.
    done = _submit(reader, trust, reader.pin_body(card, challenge=issued))
    assert done.ok, done.error_code
    assert done.body["result_code"] == 1
    assert _challenge_used_at(db, issued.challenge_id) is not None


def test_challenge_checks_come_first(
    db: Session, reader: Reader, issue_card: IssueCard, trust: TrustStore, clock: FrozenClock
) -> None:
    _person, _qualification, card = _linked(reader, issue_card)
    issued = reader.challenge()
    clock.advance(timedelta(seconds=121))
    late = _submit(reader, trust, _unattended_visual_body(reader, card, challenge=issued))
    assert late.error_code == "challenge.expired"


def test_face_and_pin_are_allowed_in_visual_mode(
    db: Session, reader: Reader, issue_card: IssueCard, trust: TrustStore
) -> None:
    _person, _qualification, card = _linked(reader, issue_card)
    reader.device.mode = ReaderMode.VISUAL
    db.flush()
    pin = _submit(reader, trust, reader.pin_body(card))
    face = _submit(reader, trust, reader.face_body(card))
    assert (pin.status_code, pin.body["result_code"]) == (200, 1)
    assert (face.status_code, face.body["result_code"]) == (200, 1)
    visual = _submit(reader, trust, reader.visual_body(card))
    assert (visual.status_code, visual.body["status"]) == (202, "awaiting_staff")


def test_replay_of_a_visual_submission_after_the_mode_switched_back(
    db: Session, reader: Reader, issue_card: IssueCard, trust: TrustStore
) -> None:
    _person, _qualification, card = _linked(reader, issue_card)
    body = reader.visual_body(card)
    first = _submit(reader, trust, body)
    assert first.status_code == 202
    reader.device.mode = ReaderMode.UNATTENDED
    db.flush()
    again = _submit(reader, trust, dict(body))
    assert again.replayed
    assert (again.status_code, again.body) == (202, first.body)
    other = _submit(reader, trust, {**body, "limit_info": False})
    assert other.error_code == "verification.visual_not_enabled"
