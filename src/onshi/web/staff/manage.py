"""Account management under each staff audience: ``/staff`` (the accounts the administrator
manages, and a new account), ``/staff/{id}`` (role, administrator flag, 救急時 permission),
``/staff/{id}/disable|enable|reset`` and, for an institution, ``/staff/second-factor`` (require
password + passkey). Scope and rules: :mod:`onshi.accounts.management` (another scope's account
is a 404; a non-administrator gets 403). A temporary password is shown once, in the answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, SkipValidation
from litestar.response import Redirect, Template
from litestar.types import ControllerRouterHandler
from sqlalchemy.orm import Session

from onshi.accounts import management
from onshi.accounts.models import StaffRole
from onshi.accounts.passwords import PasswordService
from onshi.accounts.schemas import Principal
from onshi.clock import Clock
from onshi.errors import DomainError
from onshi.institutions.models import Institution
from onshi.web.rendering import render
from onshi.web.staff.account import FormData, audience_of_path, field


def _checked(data: dict[str, Any], name: str) -> bool:
    return field(data, name) in {"on", "true", "1"}


def _role(data: dict[str, Any]) -> StaffRole | None:
    try:
        return StaffRole(field(data, "role"))
    except ValueError:
        return None


def _list_page(
    request: Request[Any, Any, Any],
    db: Session,
    principal: Principal,
    *,
    values: dict[str, Any] | None = None,
    error: DomainError | None = None,
    issued: management.IssuedPassword | None = None,
    status_code: int = 200,
) -> Template:
    institution = (
        db.get(Institution, principal.institution_id)
        if principal.institution_id is not None
        else None
    )
    return render(
        request,
        "pages/staff/manage.html",
        {
            "audience": audience_of_path(request),
            "accounts": management.list_managed(db, principal),
            "roles": management.manageable_roles(principal),
            "admin_flag": principal.role is not StaffRole.ADMINISTRATOR,
            "institution": institution,
            "values": values or {},
            "error": error,
            "issued": issued,
        },
        status_code=status_code,
    )


def list_accounts(
    request: Request[Any, Any, Any],
    db: NamedDependency[SkipValidation[Session]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template:
    return _list_page(request, db, principal)


def create_account(  # noqa: PLR0917 - Litestar injects dependencies by name
    request: Request[Any, Any, Any],
    data: FormData,
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    passwords: NamedDependency[SkipValidation[PasswordService]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template:
    login_id = field(data, "login_id", 64).strip()
    display_name = field(data, "display_name", 128).strip()
    is_admin, emergency = _checked(data, "is_admin"), _checked(data, "emergency")
    values: dict[str, Any] = {
        "login_id": login_id,
        "display_name": display_name,
        "role": field(data, "role"),
        "is_admin": is_admin,
        "emergency": emergency,
    }
    role = _role(data)
    try:
        if role is None:
            raise DomainError("accounts.role_not_allowed")
        issued = management.create_managed_account(
            db,
            clock,
            passwords,
            principal,
            login_id=login_id,
            display_name=display_name,
            role=role,
            is_admin=is_admin,
            emergency=emergency,
        )
    except management.AccountAdminRequiredError:
        raise
    except DomainError as exc:
        db.rollback()
        return _list_page(request, db, principal, values=values, error=exc, status_code=422)
    return _list_page(request, db, principal, issued=issued, status_code=201)


def _detail_page(
    request: Request[Any, Any, Any],
    db: Session,
    principal: Principal,
    account_id: int,
    *,
    error: DomainError | None = None,
    notice: str | None = None,
    issued: management.IssuedPassword | None = None,
    status_code: int = 200,
) -> Template:
    return render(
        request,
        "pages/staff/manage_account.html",
        {
            "audience": audience_of_path(request),
            "account": management.get_managed(db, principal, account_id),
            "roles": management.manageable_roles(principal),
            "admin_flag": principal.role is not StaffRole.ADMINISTRATOR,
            "is_self": account_id == principal.subject_id,
            "error": error,
            "notice": notice,
            "issued": issued,
        },
        status_code=status_code,
    )


def account_detail(
    request: Request[Any, Any, Any],
    account_id: FromPath[int],
    db: NamedDependency[SkipValidation[Session]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template:
    return _detail_page(request, db, principal, account_id)


def update_account(  # noqa: PLR0917 - Litestar injects dependencies by name
    request: Request[Any, Any, Any],
    account_id: FromPath[int],
    data: FormData,
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template:
    role = _role(data)
    try:
        if role is None:
            raise DomainError("accounts.role_not_allowed")
        management.update_managed_account(
            db,
            clock,
            principal,
            account_id,
            role=role,
            is_admin=_checked(data, "is_admin"),
            emergency=_checked(data, "emergency"),
        )
    except management.AccountAdminRequiredError:
        raise
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        db.rollback()
        return _detail_page(request, db, principal, account_id, error=exc, status_code=422)
    return _detail_page(request, db, principal, account_id, notice="staff.manage.saved")


def _state_change(active: bool) -> Callable[..., Any]:
    def change(
        request: Request[Any, Any, Any],
        account_id: FromPath[int],
        db: NamedDependency[SkipValidation[Session]],
        clock: NamedDependency[SkipValidation[Clock]],
        principal: NamedDependency[SkipValidation[Principal]],
    ) -> Template:
        try:
            management.set_account_active(db, clock, principal, account_id, active=active)
        except management.AccountAdminRequiredError:
            raise
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return _detail_page(request, db, principal, account_id, error=exc, status_code=422)
        notice = "staff.manage.enabled" if active else "staff.manage.disabled"
        return _detail_page(request, db, principal, account_id, notice=notice)

    change.__name__ = "enable_account" if active else "disable_account"
    return change


def reset_account(  # noqa: PLR0917 - Litestar injects dependencies by name
    request: Request[Any, Any, Any],
    account_id: FromPath[int],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    passwords: NamedDependency[SkipValidation[PasswordService]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template:
    try:
        issued = management.reset_password(db, clock, passwords, principal, account_id)
    except management.AccountAdminRequiredError:
        raise
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        return _detail_page(request, db, principal, account_id, error=exc, status_code=422)
    return _detail_page(request, db, principal, account_id, issued=issued)


def second_factor_policy(
    request: Request[Any, Any, Any],
    data: FormData,
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Redirect:
    management.set_second_factor_requirement(
        db, clock, principal, required=_checked(data, "required")
    )
    return Redirect(f"/{audience_of_path(request)}/staff", status_code=303)


def manage_handlers(audience: str) -> list[ControllerRouterHandler]:
    routes: list[tuple[Callable[..., Any], Callable[..., Any], str, str]] = [
        (get, list_accounts, "/staff", "staff-manage"),
        (post, create_account, "/staff", "staff-manage-create"),
        (get, account_detail, "/staff/{account_id:int}", "staff-manage-account"),
        (post, update_account, "/staff/{account_id:int}", "staff-manage-update"),
        (post, _state_change(False), "/staff/{account_id:int}/disable", "staff-manage-disable"),
        (post, _state_change(True), "/staff/{account_id:int}/enable", "staff-manage-enable"),
        (post, reset_account, "/staff/{account_id:int}/reset", "staff-manage-reset"),
    ]
    if audience == "clinic":
        routes.append((post, second_factor_policy, "/staff/second-factor", "staff-manage-2fa"))
    return [
        method(path, name=f"{name}-{audience}", sync_to_thread=True, status_code=200)(function)
        for method, function, path, name in routes
    ]
