"""Safe redirect targets (``next``) and the landing page of each principal."""

from __future__ import annotations

from onshi.accounts.schemas import Principal
from onshi.web.guards import LANDING_PATHS, principal_allowed


def safe_next(value: str | None, default: str = "/") -> str:
    """Only a local absolute path: no scheme, no host, no ``//`` or backslash tricks."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(ch in value for ch in "\\\r\n\t") or "://" in value.split("?", 1)[0]:
        return default
    return value


def landing_path(principal: Principal) -> str:
    if principal.is_patient:
        return "/me"
    return LANDING_PATHS[principal.role] if principal.role is not None else "/"


def after_sign_in(principal: Principal, requested: str | None) -> str:
    """``next`` when it belongs to an audience this principal may see, else their landing."""
    target = safe_next(requested, "")
    audience = target.split("/", 2)[1] if target.count("/") >= 1 and target != "" else ""
    audience = {"me": "patient"}.get(audience, audience)
    if (
        target
        and audience in {"clinic", "insurer", "admin", "patient"}
        and principal_allowed(principal, audience)
    ):
        return target
    return landing_path(principal)
