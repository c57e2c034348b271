"""Deny by default.

One app-level guard reads the ``audience`` each router declares in its ``opt`` (see
``web/routes.py``) and lets a request through only when the principal fits it:

| audience | who |
|---|---|
| ``public`` | anybody (home, sign-in, language switch, static files) |
| ``patient`` | a signed-in patient |
| ``clinic`` | staff with role reception / doctor / dentist / pharmacist |
| ``insurer`` | staff with role insurer_operator |
| ``admin`` | staff with role administrator |
| ``api`` | handlers that bring their own guard (device signatures); none → denied |

Restricted staff sessions (``Principal.restriction``: passkey still to give, temporary password
to replace, passkey the institution requires): every staff route answers with a redirect to the
page that lifts the restriction, except the handlers that declare it in
``opt={"open_when": frozenset({"password"})}``. Public routes (home, sign-out) stay open.

A handler may narrow further with ``opt={"roles": QUALIFIED_ROLES}``. A handler without an
audience is refused. Not signed in → 401 (the error handler redirects to the audience's sign-in);
signed in but wrong kind or role → 403. Objects of another person or institution are the
services' job: they raise ``NotFoundError`` (404).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Final, Literal

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from onshi.accounts.models import CLINIC_ROLES, StaffRole
from onshi.accounts.schemas import Principal
from onshi.web.state import request_principal

Audience = Literal["public", "patient", "clinic", "insurer", "admin", "api"]

AUDIENCE_ROLES: Final[dict[str, frozenset[StaffRole]]] = {
    "clinic": CLINIC_ROLES,
    "insurer": frozenset({StaffRole.INSURER_OPERATOR}),
    "admin": frozenset({StaffRole.ADMINISTRATOR}),
}

# Where each audience signs in (the error handler redirects there with ?next=).
SIGN_IN_PATHS: Final[dict[str, str]] = {
    "clinic": "/clinic/sign-in",
    "insurer": "/insurer/sign-in",
    "admin": "/admin/sign-in",
    "patient": "/me/sign-in",
}

# Where each staff role lands after signing in.
LANDING_PATHS: Final[dict[StaffRole, str]] = {
    **dict.fromkeys(CLINIC_ROLES, "/clinic"),
    StaffRole.INSURER_OPERATOR: "/insurer",
    StaffRole.ADMINISTRATOR: "/admin",
}


# Where each restriction is lifted, below the audience's path.
RESTRICTION_PATHS: Final[dict[str, str]] = {
    "second_factor": "/account/second-factor",
    "password": "/account/password",
    "passkey": "/account/passkeys",
}


class SessionRestrictedException(PermissionDeniedException):
    """The session may only open ``location`` (the error handler redirects there)."""

    def __init__(self, location: str) -> None:
        super().__init__(detail="restricted")
        self.location = location


def audience_of(handler: BaseRouteHandler) -> str | None:
    audience = handler.opt.get("audience")
    return audience if isinstance(audience, str) else None


def principal_allowed(
    principal: Principal, audience: str, roles: Collection[StaffRole] | None = None
) -> bool:
    if audience == "patient":
        return principal.is_patient
    allowed = AUDIENCE_ROLES.get(audience)
    if allowed is None or not principal.is_staff or principal.role not in allowed:
        return False
    return roles is None or principal.role in roles


def audience_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    audience = audience_of(handler)
    if audience == "public":
        return
    if audience == "api":
        if len(handler.resolve_guards()) > 1:
            return  # the API router's own guard (device signature) decides
        raise PermissionDeniedException(detail="api route without its own guard")
    if audience not in AUDIENCE_ROLES and audience != "patient":
        raise PermissionDeniedException(detail="route has no audience")
    principal = request_principal(connection)
    if principal is None:
        raise NotAuthorizedException(detail=audience)
    roles = handler.opt.get("roles")
    if not principal_allowed(principal, audience, roles):
        raise PermissionDeniedException(detail="role")
    restriction = principal.restriction
    if restriction is not None and restriction not in handler.opt.get("open_when", ()):
        raise SessionRestrictedException(f"/{audience}{RESTRICTION_PATHS[restriction]}")


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """Dependency ``principal: Principal`` for guarded handlers. The guard already ran, so a
    missing principal here is a wiring mistake, answered with 401 rather than a crash."""
    principal = request_principal(request)
    if principal is None:
        raise NotAuthorizedException()
    return principal
