"""API keys of the insurer's systems: listed for every operator of the insurer, registered and
revoked by an insurer administrator only."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, SkipValidation
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from onshi.accounts.schemas import Principal
from onshi.clock import Clock
from onshi.errors import DomainError, NotFoundError, PermissionDeniedError
from onshi.registration import api_keys
from onshi.web.rendering import render

FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
PAGE = "/insurer/registrations/api-keys"


def _insurer_id(principal: Principal) -> int:
    if principal.insurer_id is None:
        raise NotFoundError()
    return principal.insurer_id


def _is_admin(db: Session, principal: Principal) -> bool:
    return api_keys.is_insurer_admin(
        db, staff_id=principal.subject_id, insurer_id=_insurer_id(principal)
    )


def _page(
    request: Request[Any, Any, Any],
    db: Session,
    principal: Principal,
    *,
    error: DomainError | None = None,
) -> Template:
    context: dict[str, Any] = {
        "keys": api_keys.keys_of(db, _insurer_id(principal)),
        "is_admin": _is_admin(db, principal),
    }
    if error is not None:
        context.update(error_code=error.code, error_params=error.params)
    status = 200 if error is None else error.status_code
    return render(request, "pages/insurer/registration_keys.html", context, status_code=status)


@get("/registrations/api-keys", name="insurer-registration-keys", sync_to_thread=True)
def keys_page(
    request: Request[Any, Any, Any],
    db: NamedDependency[SkipValidation[Session]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template:
    return _page(request, db, principal)


@post("/registrations/api-keys", name="insurer-registration-key-add", sync_to_thread=True)
def add_key(
    request: Request[Any, Any, Any],
    data: FormData,
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template | Redirect:
    if not _is_admin(db, principal):
        raise PermissionDeniedError("registration.api.admin_only")
    try:
        api_keys.register_key(
            db, clock, insurer_id=_insurer_id(principal), staff_id=principal.subject_id,
            label=str(data.get("label", "")), public_key=str(data.get("public_key", "")),
        )  # fmt: skip
    except api_keys.ApiKeyError as exc:
        return _page(request, db, principal, error=exc)
    return Redirect(PAGE, status_code=303)


@post("/registrations/api-keys/{key_id:int}/revoke", name="insurer-registration-key-revoke",
      sync_to_thread=True)  # fmt: skip
def revoke_key(
    key_id: FromPath[int],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Redirect:
    if not _is_admin(db, principal):
        raise PermissionDeniedError("registration.api.admin_only")
    api_keys.revoke_key(
        db, clock, insurer_id=_insurer_id(principal), staff_id=principal.subject_id, key_id=key_id
    )
    return Redirect(PAGE, status_code=303)


KEY_HANDLERS = [keys_page, add_key, revoke_key]
