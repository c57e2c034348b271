"""Staff account management: one's own password, and the accounts an administrator manages.

Who manages whom (``can_manage``):

- an institution administrator (``is_institution_admin``): the staff of that institution
  (reception, doctor, dentist, pharmacist; the 救急時 permission for qualified roles);
- an insurer administrator (``is_insurer_admin``): that insurer's operators;
- a system administrator: the administrator accounts.

Another scope's account is a 404. Nobody disables, resets or demotes themself (that would lock
the last administrator out). A reset gives a one-time temporary password that must be changed at
the next sign-in; a reset, a disable and any change of role or permission end every session of
the account. Every change is audited in the caller's transaction; services never commit.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onshi.accounts.errors import AccountError, PasswordPolicyError
from onshi.accounts.models import CLINIC_ROLES, QUALIFIED_ROLES, StaffAccount, StaffRole
from onshi.accounts.passwords import PasswordService, check_password_policy
from onshi.accounts.schemas import Principal
from onshi.accounts.services import create_staff_account, revoke_account_sessions
from onshi.audit.models import ActorKind
from onshi.audit.services import record_audit
from onshi.clock import Clock
from onshi.errors import DomainError, NotFoundError, PermissionDeniedError
from onshi.institutions.models import Institution

# Temporary passwords: 4 groups of 4 from 31 unambiguous characters (~79 bits), easy to read out.
_TEMP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_TEMP_GROUPS = 4


class AccountAdminRequiredError(PermissionDeniedError):
    code = "accounts.admin_required"


@dataclass(frozen=True)
class IssuedPassword:
    """A temporary password: shown once to the administrator, never stored in plain."""

    account_id: int
    login_id: str
    password: str


def temporary_password() -> str:
    while True:
        groups = [
            "".join(secrets.choice(_TEMP_ALPHABET) for _ in range(4)) for _ in range(_TEMP_GROUPS)
        ]
        candidate = "-".join(groups)
        try:
            check_password_policy(candidate)
        except PasswordPolicyError:  # pragma: no cover - 16 random characters nearly always pass
            continue
        return candidate


# --- scope ------------------------------------------------------------------------------------


def can_manage_accounts(actor: Principal) -> bool:
    if not actor.is_staff:
        return False
    if actor.role in CLINIC_ROLES:
        return actor.is_institution_admin and actor.institution_id is not None
    if actor.role is StaffRole.INSURER_OPERATOR:
        return actor.is_insurer_admin and actor.insurer_id is not None
    return actor.role is StaffRole.ADMINISTRATOR


def manageable_roles(actor: Principal) -> tuple[StaffRole, ...]:
    if not can_manage_accounts(actor):
        return ()
    if actor.role in CLINIC_ROLES:
        return (StaffRole.RECEPTION, StaffRole.DOCTOR, StaffRole.DENTIST, StaffRole.PHARMACIST)
    if actor.role is StaffRole.INSURER_OPERATOR:
        return (StaffRole.INSURER_OPERATOR,)
    return (StaffRole.ADMINISTRATOR,)


def _require_admin(actor: Principal) -> None:
    if not can_manage_accounts(actor):
        raise AccountAdminRequiredError()


def _in_scope(actor: Principal, account: StaffAccount) -> bool:
    if actor.role in CLINIC_ROLES:
        return account.institution_id == actor.institution_id and account.role in CLINIC_ROLES
    if actor.role is StaffRole.INSURER_OPERATOR:
        return account.insurer_id == actor.insurer_id
    return account.role is StaffRole.ADMINISTRATOR


def list_managed(db: Session, actor: Principal) -> list[StaffAccount]:
    _require_admin(actor)
    query = select(StaffAccount).order_by(StaffAccount.login_id)
    if actor.role in CLINIC_ROLES:
        query = query.where(StaffAccount.institution_id == actor.institution_id)
    elif actor.role is StaffRole.INSURER_OPERATOR:
        query = query.where(StaffAccount.insurer_id == actor.insurer_id)
    else:
        query = query.where(StaffAccount.role == StaffRole.ADMINISTRATOR)
    return list(db.scalars(query))


def get_managed(db: Session, actor: Principal, account_id: int) -> StaffAccount:
    _require_admin(actor)
    account = db.get(StaffAccount, account_id)
    if account is None or not _in_scope(actor, account):
        raise NotFoundError(object="staff_account")
    return account


def _audit(
    db: Session,
    clock: Clock,
    actor: Principal,
    action: str,
    account: StaffAccount,
    *,
    details: dict[str, Any] | None = None,
) -> None:
    record_audit(
        db,
        clock,
        actor_kind=ActorKind.STAFF,
        actor_id=actor.subject_id,
        action=action,
        object_type="staff_account",
        object_id=account.id,
        institution_id=account.institution_id,
        details={"login_id": account.login_id, **(details or {})},
    )


def _admin_flag_allowed(actor: Principal) -> bool:
    return actor.role is not StaffRole.ADMINISTRATOR


def _check_permissions(
    actor: Principal, role: StaffRole, *, is_admin: bool, emergency: bool
) -> None:
    if role not in manageable_roles(actor):
        raise AccountError("accounts.role_not_allowed")
    if emergency and role not in QUALIFIED_ROLES:
        raise AccountError("accounts.emergency_needs_qualified")
    if is_admin and not _admin_flag_allowed(actor):
        raise AccountError("accounts.role_not_allowed")


# --- administrator actions --------------------------------------------------------------------


def create_managed_account(
    db: Session,
    clock: Clock,
    passwords: PasswordService,
    actor: Principal,
    *,
    login_id: str,
    display_name: str,
    role: StaffRole,
    is_admin: bool = False,
    emergency: bool = False,
) -> IssuedPassword:
    """A new account in the actor's scope with a temporary password (changed at first
    sign-in)."""
    _require_admin(actor)
    _check_permissions(actor, role, is_admin=is_admin, emergency=emergency)
    password = temporary_password()
    account = create_staff_account(
        db,
        clock,
        passwords,
        login_id=login_id,
        display_name=display_name,
        password=password,
        role=role,
        institution_id=actor.institution_id if role in CLINIC_ROLES else None,
        insurer_id=actor.insurer_id if role is StaffRole.INSURER_OPERATOR else None,
        is_institution_admin=is_admin and role in CLINIC_ROLES,
        emergency_permission=emergency,
        created_by=actor.subject_id,
    )
    account.is_insurer_admin = is_admin and role is StaffRole.INSURER_OPERATOR
    account.must_change_password = True
    db.flush()
    return IssuedPassword(account_id=account.id, login_id=account.login_id, password=password)


def update_managed_account(
    db: Session,
    clock: Clock,
    actor: Principal,
    account_id: int,
    *,
    role: StaffRole,
    is_admin: bool,
    emergency: bool,
) -> StaffAccount:
    """Role, administrator flag and 救急時 permission. A change ends the account's sessions."""
    account = get_managed(db, actor, account_id)
    _check_permissions(actor, role, is_admin=is_admin, emergency=emergency)
    before = _permissions(account)
    demotes = role is not account.role or (before["admin"] and not is_admin)
    if account.id == actor.subject_id and demotes:
        raise AccountError("accounts.cannot_demote_self")
    account.role = role
    account.is_institution_admin = is_admin and role in CLINIC_ROLES
    account.is_insurer_admin = is_admin and role is StaffRole.INSURER_OPERATOR
    account.emergency_permission = emergency
    after = _permissions(account)
    if after == before:
        return account
    db.flush()
    ended = revoke_account_sessions(db, clock, account.id)
    _audit(
        db, clock, actor, "staff_account.updated", account,
        details={"before": before, "after": after, "sessions_ended": ended},
    )  # fmt: skip
    return account


def _permissions(account: StaffAccount) -> dict[str, Any]:
    return {
        "role": account.role.value,
        "admin": account.is_institution_admin or account.is_insurer_admin,
        "emergency": account.emergency_permission,
    }


def set_account_active(
    db: Session, clock: Clock, actor: Principal, account_id: int, *, active: bool
) -> StaffAccount:
    account = get_managed(db, actor, account_id)
    if account.id == actor.subject_id:
        raise AccountError("accounts.cannot_disable_self")
    if account.active == active:
        return account
    account.active = active
    db.flush()
    ended = 0 if active else revoke_account_sessions(db, clock, account.id)
    action = "staff_account.enabled" if active else "staff_account.disabled"
    _audit(db, clock, actor, action, account, details={"sessions_ended": ended})
    return account


def reset_password(
    db: Session, clock: Clock, passwords: PasswordService, actor: Principal, account_id: int
) -> IssuedPassword:
    """A one-time temporary password; every session of the account ends."""
    account = get_managed(db, actor, account_id)
    if account.id == actor.subject_id:
        raise AccountError("accounts.cannot_reset_self")
    password = temporary_password()
    account.password_hash = passwords.hash(password)
    account.must_change_password = True
    account.password_changed_at = clock.now()
    db.flush()
    ended = revoke_account_sessions(db, clock, account.id)
    _audit(
        db, clock, actor, "staff_account.password_reset", account,
        details={"sessions_ended": ended},
    )  # fmt: skip
    return IssuedPassword(account_id=account.id, login_id=account.login_id, password=password)


def set_second_factor_requirement(
    db: Session, clock: Clock, actor: Principal, *, required: bool
) -> None:
    """An institution administrator makes password + passkey mandatory for its staff."""
    if actor.role not in CLINIC_ROLES or not can_manage_accounts(actor):
        raise AccountAdminRequiredError()
    institution = db.get(Institution, actor.institution_id)
    if institution is None:
        raise NotFoundError(object="institution")
    if institution.require_staff_second_factor == required:
        return
    institution.require_staff_second_factor = required
    db.flush()
    record_audit(
        db,
        clock,
        actor_kind=ActorKind.STAFF,
        actor_id=actor.subject_id,
        action="institution.staff_second_factor_required"
        if required
        else "institution.staff_second_factor_optional",
        object_type="institution",
        object_id=institution.id,
        institution_id=institution.id,
    )


# --- one's own password -----------------------------------------------------------------------


def change_own_password(
    db: Session,
    clock: Clock,
    passwords: PasswordService,
    actor: Principal,
    *,
    current: str,
    new: str,
    confirm: str,
) -> dict[str, DomainError]:
    """Change the signed-in account's password. Returns the problems per field (nothing changed
    when any); on success the account's other sessions end."""
    account = db.get(StaffAccount, actor.subject_id)
    if account is None or not account.active:
        raise NotFoundError(object="staff_account")
    problems: dict[str, DomainError] = {}
    if not passwords.verify(account.password_hash, current):
        problems["current"] = AccountError("accounts.password.current_wrong")
    try:
        check_password_policy(new, login_id=account.login_id, display_name=account.display_name)
    except PasswordPolicyError as exc:
        problems["new"] = exc
    if "new" not in problems and new == current:
        problems["new"] = AccountError("accounts.password.unchanged")
    if new != confirm:
        problems["confirm"] = AccountError("accounts.password.mismatch")
    if problems:
        if "current" in problems:
            _audit(db, clock, actor, "staff_account.password_change_refused", account)
        return problems
    account.password_hash = passwords.hash(new)
    account.must_change_password = False
    account.password_changed_at = clock.now()
    db.flush()
    ended = revoke_account_sessions(db, clock, account.id, keep_session_id=actor.session_id)
    _audit(
        db, clock, actor, "staff_account.password_changed", account,
        details={"sessions_ended": ended},
    )  # fmt: skip
    return {}
