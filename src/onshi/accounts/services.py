"""Writes of the accounts domain: staff accounts, password sign-in with rate limits, and
DB-backed browser sessions. Services flush, never commit (the request owns the transaction).

Sign-in rate limit
    :mod:`onshi.accounts.lockout`: a quick lock per (login, address), a lock per address across
    logins, and a slow growing delay per login that applies only to addresses the login has
    never signed in from, so a stranger cannot lock a clinic out. While locked the password is
    not checked.

Sessions
    The cookie holds 32 random bytes (URL-safe base64); the table holds their SHA-256. A session
    ends at ``expires_at`` (absolute, ``session_hours`` after sign-in), after ``idle_minutes``
    without a request, or when revoked (sign-out, rotation at sign-in).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from onshi.accounts import lockout
from onshi.accounts.errors import AccountError, InvalidCredentialsError, SignInRateLimitedError
from onshi.accounts.models import (
    CLINIC_ROLES,
    PatientAccount,
    StaffAccount,
    StaffRole,
    SubjectKind,
    WebSession,
)
from onshi.accounts.passwords import PasswordService, check_password_policy
from onshi.accounts.schemas import IssuedSession, Principal
from onshi.accounts.staff_passkey_models import StaffPasskeyCredential
from onshi.audit.models import ActorKind
from onshi.audit.services import record_audit
from onshi.clock import Clock
from onshi.identity.models import Person
from onshi.institutions.models import Institution

SignInLimits = lockout.SignInLimits  # the settings' limits (kept here: the call interface)
LOGIN_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
DISPLAY_NAME_MAX = 128
# Touch last_seen_at at most this often (a write per request would serialise every page view).
LAST_SEEN_RESOLUTION = timedelta(seconds=60)


@dataclass(frozen=True)
class SessionPolicy:
    hours: int
    idle_minutes: int


def normalise_login_id(login_id: str) -> str:
    return login_id.strip().lower()


# --- staff accounts ---------------------------------------------------------------------------


def create_staff_account(
    db: Session,
    clock: Clock,
    passwords: PasswordService,
    *,
    login_id: str,
    display_name: str,
    password: str,
    role: StaffRole,
    institution_id: int | None = None,
    insurer_id: int | None = None,
    is_institution_admin: bool = False,
    emergency_permission: bool = False,
    created_by: int | None = None,
) -> StaffAccount:
    login = normalise_login_id(login_id)
    name = display_name.strip()
    if not LOGIN_ID_RE.fullmatch(login):
        raise AccountError("accounts.login_id_invalid")
    if not name or len(name) > DISPLAY_NAME_MAX:
        raise AccountError("accounts.display_name_invalid", max=DISPLAY_NAME_MAX)
    if role in CLINIC_ROLES and (institution_id is None or insurer_id is not None):
        raise AccountError("accounts.clinic_role_needs_institution")
    if role is StaffRole.INSURER_OPERATOR and (insurer_id is None or institution_id is not None):
        raise AccountError("accounts.insurer_role_needs_insurer")
    if role is StaffRole.ADMINISTRATOR and (insurer_id is not None or institution_id is not None):
        raise AccountError("accounts.administrator_unattached")
    check_password_policy(password, login_id=login, display_name=name)
    taken = db.scalar(select(StaffAccount.id).where(StaffAccount.login_id == login))
    if taken is not None:
        raise AccountError("accounts.login_id_taken")
    account = StaffAccount(
        login_id=login,
        display_name=name,
        password_hash=passwords.hash(password),
        role=role,
        institution_id=institution_id,
        insurer_id=insurer_id,
        is_institution_admin=is_institution_admin,
        emergency_permission=emergency_permission,
        active=True,
        created_at=clock.now(),
    )
    db.add(account)
    db.flush()
    record_audit(
        db,
        clock,
        actor_kind=ActorKind.SYSTEM if created_by is None else ActorKind.STAFF,
        actor_id=created_by,
        action="staff_account.created",
        object_type="staff_account",
        object_id=account.id,
        institution_id=institution_id,
        details={"login_id": login, "role": role.value, "insurer_id": insurer_id},
    )
    return account


# --- sign-in ------------------------------------------------------------------------------------


def check_sign_in_allowed(
    db: Session, clock: Clock, limits: SignInLimits, *, login_id: str, client_ip: str
) -> None:
    """A plain window lock on ``login:<id>`` (reset by a success) and ``ip:<address>`` (every
    failure counts). Patient passkey sign-in uses it with its own address namespace; staff
    sign-in uses :mod:`onshi.accounts.lockout` (a stranger cannot lock a clinic out)."""
    now = clock.now()
    keys = lockout.attempt_keys(normalise_login_id(login_id), client_ip)
    locks = [
        lockout.window_lock(
            db,
            keys.login,
            now,
            attempts=limits.attempts,
            window_seconds=limits.window_seconds,
            reset_on_success=True,
        ),
        lockout.window_lock(
            db,
            keys.address,
            now,
            attempts=limits.attempts,
            window_seconds=limits.window_seconds,
            reset_on_success=False,
        ),
    ]
    active = [lock for lock in locks if lock is not None and lock > now]
    if active:
        retry_at = max(active)
        raise SignInRateLimitedError(
            retry_at=retry_at,
            retry_after_seconds=max(1, int((retry_at - now).total_seconds() + 0.999)),
        )


def authenticate(
    db: Session,
    clock: Clock,
    passwords: PasswordService,
    limits: SignInLimits,
    *,
    login_id: str,
    password: str,
    client_ip: str,
) -> StaffAccount:
    """Check a staff sign-in. Every outcome is recorded (attempt rows and an audit event) in the
    caller's transaction, so the caller must commit on failure too (answer, don't raise)."""
    login = normalise_login_id(login_id)[:64]
    keys = lockout.attempt_keys(login, client_ip)
    now = clock.now()
    known = lockout.known_address(db, keys, now)
    try:
        lockout.check_allowed(db, now, limits, keys, known=known)
    except SignInRateLimitedError as locked:
        record_audit(
            db,
            clock,
            actor_kind=ActorKind.SYSTEM,
            actor_id=None,
            action="staff.sign_in_locked",
            object_type="staff_account",
            object_id=login or "-",
            details={"client_ip": client_ip, "retry_at": locked.retry_at.isoformat()},
        )
        raise
    account = db.scalar(select(StaffAccount).where(StaffAccount.login_id == login))
    ok = passwords.verify(account.password_hash if account else None, password)
    if account is None or not ok or not account.active:
        lockout.record(db, now, keys, succeeded=False, known=known)
        record_audit(
            db,
            clock,
            actor_kind=ActorKind.SYSTEM,
            actor_id=None,
            action="staff.sign_in_failed",
            object_type="staff_account",
            object_id=account.id if account else (login or "-"),
            institution_id=account.institution_id if account else None,
            details={
                "client_ip": client_ip,
                "reason": "unknown_login"
                if account is None
                else ("wrong_password" if not ok else "inactive"),
            },
        )
        raise InvalidCredentialsError()
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash(password)
    account.last_sign_in_at = now
    lockout.record(db, now, keys, succeeded=True, known=known)
    record_audit(
        db,
        clock,
        actor_kind=ActorKind.STAFF,
        actor_id=account.id,
        action="staff.signed_in",
        object_type="staff_account",
        object_id=account.id,
        institution_id=account.institution_id,
        details={"client_ip": client_ip},
    )
    return account


# --- sessions -----------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def create_session(
    db: Session,
    clock: Clock,
    policy: SessionPolicy,
    *,
    subject_kind: SubjectKind,
    subject_id: int,
    lang: str = "ja",
    second_factor_pending: bool = False,
) -> IssuedSession:
    now = clock.now()
    token = secrets.token_urlsafe(32)
    session = WebSession(
        token_hash=hash_token(token),
        subject_kind=subject_kind,
        subject_id=subject_id,
        created_at=now,
        expires_at=now + timedelta(hours=policy.hours),
        last_seen_at=now,
        revoked_at=None,
        lang=lang if lang in {"ja", "en"} else "ja",
        second_factor_pending=second_factor_pending,
    )
    db.add(session)
    db.flush()
    return IssuedSession(token=token, session_id=session.id, expires_at=session.expires_at)


def revoke_session(db: Session, clock: Clock, token: str | None) -> bool:
    """End the session of ``token`` (sign-out). True when a live session was revoked."""
    if not token:
        return False
    result = db.execute(
        update(WebSession)
        .where(WebSession.token_hash == hash_token(token), WebSession.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
    return bool(getattr(result, "rowcount", 0))


def revoke_account_sessions(
    db: Session, clock: Clock, account_id: int, *, keep_session_id: int | None = None
) -> int:
    """End every live session of a staff account (disable, reset, role or permission change,
    own password change: all but ``keep_session_id``). Returns how many ended; an open live
    stream notices at its next session check."""
    query = update(WebSession).where(
        WebSession.subject_kind == SubjectKind.STAFF,
        WebSession.subject_id == account_id,
        WebSession.revoked_at.is_(None),
    )
    if keep_session_id is not None:
        query = query.where(WebSession.id != keep_session_id)
    result = db.execute(query.values(revoked_at=clock.now()).execution_options(
        synchronize_session=False))  # fmt: skip
    return int(getattr(result, "rowcount", 0) or 0)


def rotate_session(
    db: Session,
    clock: Clock,
    policy: SessionPolicy,
    *,
    old_token: str | None,
    subject_kind: SubjectKind,
    subject_id: int,
    lang: str = "ja",
    second_factor_pending: bool = False,
) -> IssuedSession:
    """Sign-in: revoke whatever session the browser had and issue a fresh token."""
    revoke_session(db, clock, old_token)
    return create_session(
        db,
        clock,
        policy,
        subject_kind=subject_kind,
        subject_id=subject_id,
        lang=lang,
        second_factor_pending=second_factor_pending,
    )


def sign_in_staff(
    db: Session,
    clock: Clock,
    passwords: PasswordService,
    limits: SignInLimits,
    policy: SessionPolicy,
    *,
    login_id: str,
    password: str,
    client_ip: str,
    old_token: str | None,
    lang: str,
) -> tuple[StaffAccount, IssuedSession]:
    account = authenticate(
        db, clock, passwords, limits, login_id=login_id, password=password, client_ip=client_ip
    )
    issued = rotate_session(
        db,
        clock,
        policy,
        old_token=old_token,
        subject_kind=SubjectKind.STAFF,
        subject_id=account.id,
        lang=lang,
        # A staff member with a passkey always gives it too (second factor).
        second_factor_pending=has_staff_passkey(db, account.id),
    )
    return account, issued


def has_staff_passkey(db: Session, account_id: int) -> bool:
    return (
        db.scalar(
            select(StaffPasskeyCredential.id)
            .where(StaffPasskeyCredential.staff_account_id == account_id)
            .limit(1)
        )
        is not None
    )


def sign_out(db: Session, clock: Clock, principal: Principal | None, token: str | None) -> None:
    if revoke_session(db, clock, token) and principal is not None:
        record_audit(
            db,
            clock,
            actor_kind=ActorKind.STAFF if principal.is_staff else ActorKind.PATIENT,
            actor_id=principal.subject_id,
            action="session.signed_out",
            object_type="web_session",
            object_id=principal.session_id,
            person_id=principal.person_id,
            institution_id=principal.institution_id,
        )


def set_session_lang(db: Session, token: str | None, lang: str) -> None:
    if token and lang in {"ja", "en"}:
        db.execute(
            update(WebSession).where(WebSession.token_hash == hash_token(token)).values(lang=lang)
        )


def resolve_session(
    db: Session, clock: Clock, policy: SessionPolicy, token: str
) -> Principal | None:
    """The principal of a live session, or None (unknown, revoked, expired, idle, or the
    account was disabled). Touches ``last_seen_at`` at most once a minute."""
    now = clock.now()
    session = db.scalar(
        select(WebSession).where(
            WebSession.token_hash == hash_token(token),
            WebSession.revoked_at.is_(None),
            WebSession.expires_at > now,
            WebSession.last_seen_at > now - timedelta(minutes=policy.idle_minutes),
        )
    )
    if session is None:
        return None
    principal = _principal_for(db, session)
    if principal is None:
        return None
    if now - session.last_seen_at >= LAST_SEEN_RESOLUTION:
        session.last_seen_at = now
        db.flush()
    return principal


def _principal_for(db: Session, session: WebSession) -> Principal | None:
    if session.subject_kind is SubjectKind.STAFF:
        account = db.get(StaffAccount, session.subject_id)
        if account is None or not account.active:
            return None
        needs_passkey = False
        if account.institution_id is not None and not session.second_factor_pending:
            required = db.scalar(
                select(Institution.require_staff_second_factor).where(
                    Institution.id == account.institution_id
                )
            )
            needs_passkey = bool(required) and not has_staff_passkey(db, account.id)
        return Principal(
            session_id=session.id,
            subject_kind=SubjectKind.STAFF,
            subject_id=account.id,
            display_name=account.display_name,
            role=account.role,
            login_id=account.login_id,
            institution_id=account.institution_id,
            insurer_id=account.insurer_id,
            is_institution_admin=account.is_institution_admin,
            emergency_permission=account.emergency_permission,
            is_insurer_admin=account.is_insurer_admin,
            must_change_password=account.must_change_password,
            second_factor_pending=session.second_factor_pending,
            needs_passkey=needs_passkey,
        )
    row = db.execute(
        select(PatientAccount.id, PatientAccount.person_id, Person.family_name, Person.given_name)
        .join(Person, Person.id == PatientAccount.person_id)
        .where(PatientAccount.id == session.subject_id)
    ).one_or_none()
    if row is None:
        return None
    return Principal(
        session_id=session.id,
        subject_kind=SubjectKind.PATIENT,
        subject_id=row.id,
        display_name=f"{row.family_name}\u3000{row.given_name}",
        person_id=row.person_id,
    )
