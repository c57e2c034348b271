"""Patient passkey ceremonies: enrolment (create the account and its first passkey with a
one-time code) and sign-in (discoverable credentials).

Challenges live in ``passkey_challenges``: 5 minutes, single use, bound to the browser (the
SHA-256 of a random value the web layer keeps in a cookie) and, for a registration, to the
enrolment code. Services flush, never commit.

Enrolment failures raise (the request rolls back: nothing changes). Sign-in failures are
*returned*, so the failed attempt, its audit event and a consumed challenge are committed —
a clone detection in particular must leave a trace.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.orm import Session

from onshi.accounts import passkeys
from onshi.accounts.enrolment import open_invitation, use_code
from onshi.accounts.errors import SignInRateLimitedError
from onshi.accounts.models import PasskeyCredential, PatientAccount, SignInAttempt
from onshi.accounts.passkey_models import Ceremony, PasskeyChallenge
from onshi.accounts.passkeys import (
    AuthenticationRejectedError,
    CloneDetectedError,
    PasskeyError,
    RegistrationRejectedError,
    RelyingParty,
)
from onshi.accounts.services import SignInLimits, check_sign_in_allowed
from onshi.audit.models import ActorKind
from onshi.audit.services import record_audit
from onshi.clock import Clock
from onshi.identity.models import Person

CHALLENGE_TTL = timedelta(minutes=5)
# Attempt keys of passkey sign-ins live apart from staff sign-ins (``ip:passkey:<address>``).
_PASSKEY_NAMESPACE = "passkey:"
# Rows past expiry are deleted when new challenges are issued, after this grace period.
_PURGE_AFTER = timedelta(hours=1)


class ChallengeExpiredError(PasskeyError):
    """No fresh, unused challenge of this browser matches: start again."""

    code = "passkey.challenge_expired"


class UnknownCredentialError(AuthenticationRejectedError):
    code = "passkey.unknown_credential"


@dataclass(frozen=True)
class Enrolled:
    account_id: int
    person_id: int
    credential_row_id: int
    new_account: bool


@dataclass(frozen=True)
class SignInResult:
    """``error`` is None on success. ``person_id`` is set whenever the credential was known."""

    account_id: int | None
    person_id: int | None
    error: PasskeyError | SignInRateLimitedError | None

    @property
    def ok(self) -> bool:
        return self.error is None


def browser_digest(browser_token: str) -> str:
    return hashlib.sha256(browser_token.encode()).hexdigest()


# -- enrolment ---------------------------------------------------------------------------------


def start_enrolment(
    db: Session,
    clock: Clock,
    rp: RelyingParty,
    *,
    secret_key: str,
    code: str | None,
    browser_token: str,
) -> dict[str, Any]:
    """Registration options for the person behind a valid enrolment code."""
    invitation = open_invitation(db, clock, code)
    existing = db.scalars(
        select(PasskeyCredential.credential_id)
        .join(PatientAccount, PatientAccount.id == PasskeyCredential.patient_account_id)
        .where(PatientAccount.person_id == invitation.person_id)
    ).all()
    challenge = _issue_challenge(
        db,
        clock,
        Ceremony.REGISTRATION,
        browser_token=browser_token,
        enrolment_code_id=invitation.code_id,
    )
    name = f"{invitation.family_name}{invitation.given_name}"
    return passkeys.registration_options(
        rp,
        challenge=challenge,
        user_handle=passkeys.user_handle_for(secret_key, invitation.person_id),
        user_name=name,
        display_name=f"{invitation.family_name} {invitation.given_name}",
        exclude_credential_ids=list(existing),
    )


def complete_enrolment(
    db: Session,
    clock: Clock,
    rp: RelyingParty,
    *,
    code: str | None,
    credential: str | dict[str, Any],
    browser_token: str,
    nickname: str = "",
) -> Enrolled:
    """Verify the new passkey, create the patient account (or add the passkey to the existing
    one, e.g. after a lost phone), and use up the code. Raises on any failure."""
    # Every check comes before the first write, so a refused enrolment changes nothing.
    invitation = open_invitation(db, clock, code)
    challenge = passkeys.claimed_challenge(credential, registration=True)
    browser = browser_digest(browser_token)
    pending = db.scalar(
        select(PasskeyChallenge.id).where(
            *_fresh_challenge(clock, challenge, Ceremony.REGISTRATION, browser),
            PasskeyChallenge.enrolment_code_id == invitation.code_id,
        )
    )
    if pending is None:
        raise RegistrationRejectedError("no fresh, unused challenge for this browser and code")
    new = passkeys.verify_registration(rp, credential=credential, expected_challenge=challenge)
    if (
        db.scalar(
            select(PasskeyCredential.id).where(PasskeyCredential.credential_id == new.credential_id)
        )
        is not None
    ):
        raise RegistrationRejectedError("credential id already registered")
    _consume_challenge(
        db,
        clock,
        challenge,
        Ceremony.REGISTRATION,
        browser_token=browser_token,
        enrolment_code_id=invitation.code_id,
        error=RegistrationRejectedError,
    )
    now = clock.now()
    account = db.scalar(
        select(PatientAccount).where(PatientAccount.person_id == invitation.person_id)
    )
    new_account = account is None
    if account is None:
        account = PatientAccount(person_id=invitation.person_id, created_at=now)
        db.add(account)
        db.flush()
    use_code(db, clock, invitation.code_id)
    row = PasskeyCredential(
        patient_account_id=account.id,
        credential_id=new.credential_id,
        public_key=new.public_key,
        sign_count=new.sign_count,
        transports=",".join(new.transports),
        aaguid=new.aaguid,
        nickname=nickname.strip()[:64],
        created_at=now,
        last_used_at=now,
    )
    db.add(row)
    account.last_sign_in_at = now
    db.flush()
    _audit(
        db,
        clock,
        account_id=account.id,
        person_id=invitation.person_id,
        action="patient.enrolled" if new_account else "patient.passkey_added",
        object_type="passkey_credential",
        object_id=str(row.id),
        details={
            "enrolment_code_id": invitation.code_id,
            "aaguid": new.aaguid,
            "backed_up": new.backed_up,
        },
    )
    return Enrolled(
        account_id=account.id,
        person_id=invitation.person_id,
        credential_row_id=row.id,
        new_account=new_account,
    )


# -- sign-in -----------------------------------------------------------------------------------


def start_sign_in(
    db: Session, clock: Clock, rp: RelyingParty, *, browser_token: str
) -> dict[str, Any]:
    challenge = _issue_challenge(db, clock, Ceremony.AUTHENTICATION, browser_token=browser_token)
    return passkeys.authentication_options(rp, challenge=challenge)


def finish_sign_in(
    db: Session,
    clock: Clock,
    rp: RelyingParty,
    *,
    secret_key: str,
    credential: str | dict[str, Any],
    browser_token: str,
    limits: SignInLimits,
    client_ip: str,
) -> SignInResult:
    """Verify a passkey assertion. Never raises for a bad assertion: the result carries the
    error, and the failure is audited.

    Rate limit: the staff sign-in mechanism (``sign_in_attempts`` rows, same window and count)
    keyed by the client address in a namespace of its own, ``ip:passkey:<address>``."""
    attempt_key = f"ip:{_PASSKEY_NAMESPACE}{client_ip}"[:128]
    try:
        check_sign_in_allowed(
            db, clock, limits, login_id="", client_ip=f"{_PASSKEY_NAMESPACE}{client_ip}"
        )
    except SignInRateLimitedError as locked:
        record_audit(
            db,
            clock,
            actor_kind=ActorKind.SYSTEM,
            actor_id=None,
            action="patient.sign_in_locked",
            object_type="patient_account",
            object_id="-",
            details={"client_ip": client_ip, "retry_at": locked.retry_at.isoformat()},
        )
        return SignInResult(account_id=None, person_id=None, error=locked)
    account: PatientAccount | None = None
    try:
        assertion = passkeys.parse_assertion(credential)
        challenge = passkeys.claimed_challenge(credential, registration=False)
        _consume_challenge(
            db,
            clock,
            challenge,
            Ceremony.AUTHENTICATION,
            browser_token=browser_token,
            error=ChallengeExpiredError,
        )
        stored = db.scalar(
            select(PasskeyCredential).where(
                PasskeyCredential.credential_id == assertion.credential_id
            )
        )
        if stored is None:
            raise UnknownCredentialError("no such credential")
        account = db.get(PatientAccount, stored.patient_account_id)
        if account is None:  # pragma: no cover - foreign key
            raise UnknownCredentialError("credential without account")
        expected_handle = passkeys.user_handle_for(secret_key, account.person_id)
        if assertion.user_handle is not None and not hmac.compare_digest(
            assertion.user_handle, expected_handle
        ):
            raise AuthenticationRejectedError("user handle does not match the credential")
        verified = passkeys.verify_authentication(
            rp,
            assertion=assertion,
            expected_challenge=challenge,
            public_key=stored.public_key,
            current_sign_count=stored.sign_count,
        )
    except PasskeyError as exc:
        _record_attempt(db, clock, attempt_key, succeeded=False)
        _audit_failure(db, clock, account, exc, client_ip)
        return SignInResult(
            account_id=account.id if account else None,
            person_id=account.person_id if account else None,
            error=exc,
        )
    now = clock.now()
    stored.sign_count = verified.new_sign_count
    stored.last_used_at = now
    account.last_sign_in_at = now
    db.flush()
    _record_attempt(db, clock, attempt_key, succeeded=True)
    _audit(
        db,
        clock,
        account_id=account.id,
        person_id=account.person_id,
        action="patient.signed_in",
        object_type="passkey_credential",
        object_id=str(stored.id),
        details={"sign_count": verified.new_sign_count, "client_ip": client_ip},
    )
    return SignInResult(account_id=account.id, person_id=account.person_id, error=None)


def display_name(db: Session, person_id: int) -> str:
    person = db.get(Person, person_id)
    return person.full_name if person is not None else ""


# -- challenges --------------------------------------------------------------------------------


def _issue_challenge(
    db: Session,
    clock: Clock,
    ceremony: Ceremony,
    *,
    browser_token: str,
    enrolment_code_id: int | None = None,
) -> bytes:
    now = clock.now()
    db.execute(
        delete(PasskeyChallenge)
        .where(PasskeyChallenge.expires_at < now - _PURGE_AFTER)
        .execution_options(synchronize_session=False)
    )
    challenge = passkeys.new_challenge()
    db.add(
        PasskeyChallenge(
            challenge_hash=passkeys.challenge_digest(challenge),
            ceremony=ceremony,
            browser_hash=browser_digest(browser_token),
            enrolment_code_id=enrolment_code_id,
            created_at=now,
            expires_at=now + CHALLENGE_TTL,
            used_at=None,
        )
    )
    db.flush()
    return challenge


def _consume_challenge(
    db: Session,
    clock: Clock,
    challenge: bytes,
    ceremony: Ceremony,
    *,
    browser_token: str,
    error: type[PasskeyError],
    enrolment_code_id: int | None = None,
) -> None:
    """Use the challenge up, atomically (a conditional UPDATE: a replay finds it used)."""
    conditions = _fresh_challenge(clock, challenge, ceremony, browser_digest(browser_token))
    if enrolment_code_id is not None:
        conditions.append(PasskeyChallenge.enrolment_code_id == enrolment_code_id)
    result = db.execute(
        update(PasskeyChallenge)
        .where(*conditions)
        .values(used_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise error("no fresh, unused challenge for this browser")


def _fresh_challenge(
    clock: Clock, challenge: bytes, ceremony: Ceremony, browser_hash: str
) -> list[ColumnElement[bool]]:
    return [
        PasskeyChallenge.challenge_hash == passkeys.challenge_digest(challenge),
        PasskeyChallenge.ceremony == ceremony,
        PasskeyChallenge.browser_hash == browser_hash,
        PasskeyChallenge.used_at.is_(None),
        PasskeyChallenge.expires_at > clock.now(),
    ]


# -- audit -------------------------------------------------------------------------------------


def _audit(
    db: Session,
    clock: Clock,
    *,
    account_id: int | None,
    person_id: int | None,
    action: str,
    object_type: str,
    object_id: str,
    details: dict[str, Any],
) -> None:
    # Before the credential is known the actor is an anonymous browser: a system-observed event.
    record_audit(
        db,
        clock,
        actor_kind=ActorKind.PATIENT if account_id is not None else ActorKind.SYSTEM,
        actor_id=str(account_id) if account_id is not None else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        person_id=person_id,
        details=details,
    )


def _record_attempt(db: Session, clock: Clock, key: str, *, succeeded: bool) -> None:
    db.add(SignInAttempt(key=key, attempted_at=clock.now(), succeeded=succeeded))
    db.flush()


def _audit_failure(
    db: Session,
    clock: Clock,
    account: PatientAccount | None,
    error: PasskeyError,
    client_ip: str,
) -> None:
    action = (
        "patient.passkey_clone_detected"
        if isinstance(error, CloneDetectedError)
        else "patient.sign_in_failed"
    )
    _audit(
        db,
        clock,
        account_id=account.id if account else None,
        person_id=account.person_id if account else None,
        action=action,
        object_type="patient_account",
        object_id=str(account.id) if account else "-",
        details={"code": error.code, "reason": error.reason[:200], "client_ip": client_ip},
    )
