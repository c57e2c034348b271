"""Staff passkeys as a second factor (after the password), through the py_webauthn wrapper
:mod:`onshi.accounts.passkeys`.

- A signed-in staff member adds a passkey (registration bound to their session); removing the
  last one is refused while their institution requires two factors.
- A staff member who has a passkey signs in with password *and* passkey: the password opens a
  session marked ``second_factor_pending`` (only the passkey page is open), and a verified
  assertion of one of the account's own credentials lifts the mark. Five failures in the
  sign-in window end the pending session (the password must be given again).

Challenges are single use, five minutes, bound to the browser session; only digests are
stored. Every addition, removal, success and failure is audited.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from onshi.accounts import passkeys
from onshi.accounts.errors import AccountError
from onshi.accounts.models import StaffAccount, WebSession
from onshi.accounts.passkey_models import Ceremony
from onshi.accounts.passkeys import (
    AuthenticationRejectedError,
    PasskeyError,
    RegistrationRejectedError,
    RelyingParty,
)
from onshi.accounts.staff_passkey_models import StaffPasskeyChallenge, StaffPasskeyCredential
from onshi.audit.models import ActorKind
from onshi.audit.services import record_audit
from onshi.clock import Clock
from onshi.errors import NotFoundError
from onshi.institutions.models import Institution

CHALLENGE_TTL = timedelta(minutes=5)
MAX_SECOND_FACTOR_FAILURES = 5
NICKNAME_MAX = 64


class ChallengeExpiredError(PasskeyError):
    code = "passkey.challenge_expired"


@dataclass(frozen=True)
class StaffPasskeyView:
    id: int
    nickname: str
    created_at: Any
    last_used_at: Any


def staff_user_handle(secret_key: str, account_id: int) -> bytes:
    """Opaque, stable WebAuthn ``user.id`` of a staff account (no personal data)."""
    return hmac.new(
        secret_key.encode(), f"onshi-staff-user-handle:{account_id}".encode(), hashlib.sha256
    ).digest()


def list_passkeys(db: Session, account_id: int) -> list[StaffPasskeyView]:
    rows = db.scalars(
        select(StaffPasskeyCredential)
        .where(StaffPasskeyCredential.staff_account_id == account_id)
        .order_by(StaffPasskeyCredential.created_at, StaffPasskeyCredential.id)
    )
    return [
        StaffPasskeyView(
            id=row.id, nickname=row.nickname, created_at=row.created_at,
            last_used_at=row.last_used_at,
        )
        for row in rows
    ]  # fmt: skip


def _credential_ids(db: Session, account_id: int) -> list[bytes]:
    return list(
        db.scalars(
            select(StaffPasskeyCredential.credential_id).where(
                StaffPasskeyCredential.staff_account_id == account_id
            )
        )
    )


def _issue(db: Session, clock: Clock, ceremony: Ceremony, session_id: int) -> bytes:
    now = clock.now()
    db.execute(delete(StaffPasskeyChallenge).where(StaffPasskeyChallenge.expires_at < now))
    challenge = passkeys.new_challenge()
    db.add(
        StaffPasskeyChallenge(
            challenge_hash=passkeys.challenge_digest(challenge),
            ceremony=ceremony,
            web_session_id=session_id,
            created_at=now,
            expires_at=now + CHALLENGE_TTL,
            used_at=None,
        )
    )
    db.flush()
    return challenge


def _take(db: Session, clock: Clock, ceremony: Ceremony, session_id: int, challenge: bytes) -> None:
    """Use the stored challenge once (a conditional update: of two racing answers one wins)."""
    now = clock.now()
    result = db.execute(
        update(StaffPasskeyChallenge)
        .where(
            StaffPasskeyChallenge.challenge_hash == passkeys.challenge_digest(challenge),
            StaffPasskeyChallenge.ceremony == ceremony,
            StaffPasskeyChallenge.web_session_id == session_id,
            StaffPasskeyChallenge.used_at.is_(None),
            StaffPasskeyChallenge.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(result, "rowcount", 0) or 0) != 1:
        raise ChallengeExpiredError("no fresh, unused challenge for this session")


def _audit(
    db: Session,
    clock: Clock,
    account: StaffAccount,
    action: str,
    *,
    details: dict[str, Any] | None = None,
) -> None:
    record_audit(
        db,
        clock,
        actor_kind=ActorKind.STAFF,
        actor_id=account.id,
        action=action,
        object_type="staff_account",
        object_id=account.id,
        institution_id=account.institution_id,
        details=details or {},
    )


def _account(db: Session, account_id: int) -> StaffAccount:
    account = db.get(StaffAccount, account_id)
    if account is None or not account.active:
        raise NotFoundError(object="staff_account")
    return account


# -- adding and removing -----------------------------------------------------------------------


def start_registration(
    db: Session,
    clock: Clock,
    rp: RelyingParty,
    *,
    secret_key: str,
    account_id: int,
    session_id: int,
) -> dict[str, Any]:
    account = _account(db, account_id)
    challenge = _issue(db, clock, Ceremony.REGISTRATION, session_id)
    return passkeys.registration_options(
        rp,
        challenge=challenge,
        user_handle=staff_user_handle(secret_key, account.id),
        user_name=account.login_id,
        display_name=account.display_name,
        exclude_credential_ids=_credential_ids(db, account.id),
    )


def finish_registration(
    db: Session,
    clock: Clock,
    rp: RelyingParty,
    *,
    account_id: int,
    session_id: int,
    credential: dict[str, Any],
    nickname: str = "",
) -> int:
    """Store the verified passkey; returns its row id. Nothing is written on a refusal."""
    account = _account(db, account_id)
    challenge = passkeys.claimed_challenge(credential, registration=True)
    new = passkeys.verify_registration(rp, credential=credential, expected_challenge=challenge)
    taken = db.scalar(
        select(StaffPasskeyCredential.id).where(
            StaffPasskeyCredential.credential_id == new.credential_id
        )
    )
    if taken is not None:
        raise RegistrationRejectedError("credential already registered")
    _take(db, clock, Ceremony.REGISTRATION, session_id, challenge)
    row = StaffPasskeyCredential(
        staff_account_id=account.id,
        credential_id=new.credential_id,
        public_key=new.public_key,
        sign_count=new.sign_count,
        transports=",".join(new.transports)[:128],
        aaguid=new.aaguid,
        nickname=nickname.strip()[:NICKNAME_MAX],
        created_at=clock.now(),
        last_used_at=None,
    )
    db.add(row)
    db.flush()
    _audit(db, clock, account, "staff_passkey.added", details={"credential": row.id})
    return row.id


def second_factor_required(db: Session, account: StaffAccount) -> bool:
    if account.institution_id is None:
        return False
    return bool(
        db.scalar(
            select(Institution.require_staff_second_factor).where(
                Institution.id == account.institution_id
            )
        )
    )


def remove_passkey(db: Session, clock: Clock, *, account_id: int, credential_row_id: int) -> None:
    account = _account(db, account_id)
    row = db.get(StaffPasskeyCredential, credential_row_id)
    if row is None or row.staff_account_id != account.id:
        raise NotFoundError(object="staff_passkey")
    count = db.scalar(
        select(func.count(StaffPasskeyCredential.id)).where(
            StaffPasskeyCredential.staff_account_id == account.id
        )
    )
    if int(count or 0) <= 1 and second_factor_required(db, account):
        raise AccountError("accounts.passkey.last_required")
    db.delete(row)
    db.flush()
    _audit(db, clock, account, "staff_passkey.removed", details={"credential": credential_row_id})


# -- the second factor at sign-in --------------------------------------------------------------


def start_second_factor(
    db: Session, clock: Clock, rp: RelyingParty, *, account_id: int, session_id: int
) -> dict[str, Any]:
    account = _account(db, account_id)
    challenge = _issue(db, clock, Ceremony.AUTHENTICATION, session_id)
    return passkeys.authentication_options(
        rp, challenge=challenge, allow_credential_ids=_credential_ids(db, account.id)
    )


def finish_second_factor(
    db: Session,
    clock: Clock,
    rp: RelyingParty,
    *,
    account_id: int,
    session_id: int,
    credential: dict[str, Any],
) -> PasskeyError | None:
    """Verify the assertion and lift the session's ``second_factor_pending``. Never raises for
    a bad assertion: the failure is audited (and committed) and returned; after
    ``MAX_SECOND_FACTOR_FAILURES`` the pending session ends."""
    account = _account(db, account_id)
    try:
        assertion = passkeys.parse_assertion(credential)
        challenge = passkeys.claimed_challenge(credential, registration=False)
        stored = db.scalar(
            select(StaffPasskeyCredential).where(
                StaffPasskeyCredential.credential_id == assertion.credential_id,
                StaffPasskeyCredential.staff_account_id == account.id,
            )
        )
        if stored is None:
            raise AuthenticationRejectedError("not a passkey of this account")
        _take(db, clock, Ceremony.AUTHENTICATION, session_id, challenge)
        verified = passkeys.verify_authentication(
            rp,
            assertion=assertion,
            expected_challenge=challenge,
            public_key=stored.public_key,
            current_sign_count=stored.sign_count,
        )
    except PasskeyError as exc:
        return _second_factor_failed(db, clock, account, session_id, exc)
    now = clock.now()
    stored.sign_count = verified.new_sign_count
    stored.last_used_at = now
    db.execute(
        update(WebSession)
        .where(WebSession.id == session_id)
        .values(second_factor_pending=False)
        .execution_options(synchronize_session=False)
    )
    db.flush()
    _audit(db, clock, account, "staff.second_factor_passed", details={"credential": stored.id})
    return None


def _second_factor_failed(
    db: Session, clock: Clock, account: StaffAccount, session_id: int, error: PasskeyError
) -> PasskeyError:
    failures = (
        db.scalar(
            select(func.count())
            .select_from(StaffPasskeyChallenge)
            .where(
                StaffPasskeyChallenge.web_session_id == session_id,
                StaffPasskeyChallenge.ceremony == Ceremony.AUTHENTICATION,
            )
        )
        or 0
    )
    ended = failures >= MAX_SECOND_FACTOR_FAILURES
    if ended:
        db.execute(
            update(WebSession)
            .where(WebSession.id == session_id, WebSession.revoked_at.is_(None))
            .values(revoked_at=clock.now())
            .execution_options(synchronize_session=False)
        )
    _audit(
        db, clock, account, "staff.second_factor_failed",
        details={"code": error.code, "reason": error.reason[:200], "session_ended": ended},
    )  # fmt: skip
    return error
