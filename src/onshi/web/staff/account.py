"""A staff member's own account, under each staff audience (``/clinic``, ``/insurer``,
``/admin``): ``/account`` (overview), ``/account/password`` (change; the only page open with a
temporary password), ``/account/passkeys`` (add or remove a passkey, the second factor; the only
page open while the institution requires one and the account has none) and
``/account/second-factor`` (give the passkey after the password).

Passkey ceremonies are JSON posts made by ``static/js/passkeys.js`` (CSRF in
``X-CSRF-Token``), answered ``{redirect}`` or ``{error, code}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody, SkipValidation
from litestar.response import Redirect, Template
from litestar.types import ControllerRouterHandler
from sqlalchemy.orm import Session

from onshi.accounts import staff_passkeys
from onshi.accounts.management import can_manage_accounts, change_own_password
from onshi.accounts.passkeys import PasskeyConfigurationError, PasskeyError, RelyingParty
from onshi.accounts.passkeys import relying_party as make_relying_party
from onshi.accounts.passwords import PasswordService
from onshi.accounts.schemas import Principal
from onshi.clock import Clock
from onshi.errors import DomainError
from onshi.settings import Settings
from onshi.web.i18n import Catalogue
from onshi.web.navigation import landing_path
from onshi.web.patient.auth import other_origin_url
from onshi.web.rendering import render
from onshi.web.state import request_lang

FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
STAFF_AUDIENCES = ("clinic", "insurer", "admin")
MAX_FIELD = 256


def audience_of_path(request: Request[Any, Any, Any]) -> str:
    audience = request.url.path.strip("/").split("/", 1)[0]
    return audience if audience in STAFF_AUDIENCES else "clinic"


def field(data: dict[str, Any], name: str, limit: int = MAX_FIELD) -> str:
    value = data.get(name, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value)[:limit]


def _rp(settings: Settings) -> RelyingParty | None:
    try:
        return make_relying_party(settings.public_origin, settings.environment)
    except PasskeyConfigurationError:
        return None


def _json_error(
    request: Request[Any, Any, Any], catalogue: Catalogue, error: DomainError, status: int = 400
) -> Response[dict[str, str]]:
    message = catalogue.error_message(request_lang(request), error.code, **error.params)
    return Response({"error": message, "code": error.code}, status_code=status)


def _misconfigured(request: Request[Any, Any, Any], catalogue: Catalogue) -> Response[Any]:
    message = catalogue.translate(request_lang(request), "patient.passkey.misconfigured")
    return Response({"error": message, "code": "passkey.misconfigured"}, status_code=503)


# -- overview and password ---------------------------------------------------------------------


def account_page(
    request: Request[Any, Any, Any],
    db: NamedDependency[SkipValidation[Session]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template:
    return render(
        request,
        "pages/staff/account.html",
        {
            "audience": audience_of_path(request),
            "passkeys": staff_passkeys.list_passkeys(db, principal.subject_id),
            "can_manage": can_manage_accounts(principal),
        },
    )


def _password_form(
    request: Request[Any, Any, Any],
    principal: Principal,
    *,
    problems: dict[str, DomainError] | None = None,
    status_code: int = 200,
) -> Template:
    return render(
        request,
        "pages/staff/password.html",
        {
            "audience": audience_of_path(request),
            "problems": problems or {},
            "forced": principal.must_change_password,
        },
        status_code=status_code,
    )


def password_page(
    request: Request[Any, Any, Any], principal: NamedDependency[SkipValidation[Principal]]
) -> Template:
    return _password_form(request, principal)


def password_submit(  # noqa: PLR0917 - Litestar injects dependencies by name
    request: Request[Any, Any, Any],
    data: FormData,
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    passwords: NamedDependency[SkipValidation[PasswordService]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template | Redirect:
    problems = change_own_password(
        db,
        clock,
        passwords,
        principal,
        current=field(data, "current_password"),
        new=field(data, "new_password"),
        confirm=field(data, "confirm_password"),
    )
    if problems:
        return _password_form(request, principal, problems=problems, status_code=422)
    return Redirect(f"/{audience_of_path(request)}/account?changed=password", status_code=303)


# -- passkeys ----------------------------------------------------------------------------------


def passkeys_page(
    request: Request[Any, Any, Any],
    db: NamedDependency[SkipValidation[Session]],
    settings: NamedDependency[SkipValidation[Settings]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template:
    audience = audience_of_path(request)
    return render(
        request,
        "pages/staff/passkeys.html",
        {
            "audience": audience,
            "passkeys": staff_passkeys.list_passkeys(db, principal.subject_id),
            "required": principal.needs_passkey,
            "configured": _rp(settings) is not None,
            "right_url": other_origin_url(request, settings),
            "error_code": request.query_params.get("error"),
        },
    )


def passkey_options(  # noqa: PLR0917 - Litestar injects dependencies by name
    request: Request[Any, Any, Any],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    settings: NamedDependency[SkipValidation[Settings]],
    catalogue: NamedDependency[SkipValidation[Catalogue]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Response[Any]:
    rp = _rp(settings)
    if rp is None:
        return _misconfigured(request, catalogue)
    options = staff_passkeys.start_registration(
        db,
        clock,
        rp,
        secret_key=settings.secret_key,
        account_id=principal.subject_id,
        session_id=principal.session_id,
    )
    return Response(options)


def passkey_verify(  # noqa: PLR0917 - Litestar injects dependencies by name
    request: Request[Any, Any, Any],
    data: JSONBody[dict[str, Any]],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    settings: NamedDependency[SkipValidation[Settings]],
    catalogue: NamedDependency[SkipValidation[Catalogue]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Response[Any]:
    rp = _rp(settings)
    if rp is None:
        return _misconfigured(request, catalogue)
    credential = data.get("credential") if isinstance(data, dict) else None
    if not isinstance(credential, dict):
        return _json_error(request, catalogue, PasskeyError())
    nickname = data.get("nickname") if isinstance(data.get("nickname"), str) else ""
    try:
        staff_passkeys.finish_registration(
            db,
            clock,
            rp,
            account_id=principal.subject_id,
            session_id=principal.session_id,
            credential=credential,
            nickname=str(nickname),
        )
    except PasskeyError as exc:
        db.rollback()
        return _json_error(request, catalogue, exc)
    return Response({"redirect": f"/{audience_of_path(request)}/account/passkeys"})


def passkey_remove(
    request: Request[Any, Any, Any],
    credential_id: FromPath[int],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Redirect:
    staff_passkeys.remove_passkey(
        db, clock, account_id=principal.subject_id, credential_row_id=credential_id
    )
    return Redirect(f"/{audience_of_path(request)}/account/passkeys", status_code=303)


# -- second factor at sign-in ------------------------------------------------------------------


def second_factor_page(
    request: Request[Any, Any, Any],
    settings: NamedDependency[SkipValidation[Settings]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template | Redirect:
    if not principal.second_factor_pending:
        return Redirect(landing_path(principal), status_code=303)
    return render(
        request,
        "pages/staff/second_factor.html",
        {
            "audience": audience_of_path(request),
            "configured": _rp(settings) is not None,
            "right_url": other_origin_url(request, settings),
        },
    )


def second_factor_options(  # noqa: PLR0917 - Litestar injects dependencies by name
    request: Request[Any, Any, Any],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    settings: NamedDependency[SkipValidation[Settings]],
    catalogue: NamedDependency[SkipValidation[Catalogue]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Response[Any]:
    rp = _rp(settings)
    if rp is None:
        return _misconfigured(request, catalogue)
    return Response(
        staff_passkeys.start_second_factor(
            db, clock, rp, account_id=principal.subject_id, session_id=principal.session_id
        )
    )


def second_factor_verify(  # noqa: PLR0917 - Litestar injects dependencies by name
    request: Request[Any, Any, Any],
    data: JSONBody[dict[str, Any]],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    settings: NamedDependency[SkipValidation[Settings]],
    catalogue: NamedDependency[SkipValidation[Catalogue]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Response[Any]:
    rp = _rp(settings)
    if rp is None:
        return _misconfigured(request, catalogue)
    credential = data.get("credential") if isinstance(data, dict) else None
    error = staff_passkeys.finish_second_factor(
        db,
        clock,
        rp,
        account_id=principal.subject_id,
        session_id=principal.session_id,
        credential=credential if isinstance(credential, dict) else {},
    )
    if error is not None:
        return _json_error(request, catalogue, error)
    return Response({"redirect": landing_path(principal)})


# -- registration per audience -----------------------------------------------------------------

_Route = tuple[Callable[..., Any], Callable[..., Any], str, str, frozenset[str]]


def _routes() -> list[_Route]:
    password = frozenset({"password"})
    passkey = frozenset({"passkey"})
    second = frozenset({"second_factor"})
    return [
        (get, account_page, "/account", "staff-account", frozenset()),
        (get, password_page, "/account/password", "staff-password", password),
        (post, password_submit, "/account/password", "staff-password-submit", password),
        (get, passkeys_page, "/account/passkeys", "staff-passkeys", passkey),
        (post, passkey_options, "/account/passkeys/options", "staff-passkey-options", passkey),
        (post, passkey_verify, "/account/passkeys/verify", "staff-passkey-verify", passkey),
        (
            post,
            passkey_remove,
            "/account/passkeys/{credential_id:int}/delete",
            "staff-passkey-remove",
            frozenset(),
        ),
        (get, second_factor_page, "/account/second-factor", "staff-second-factor", second),
        (
            post,
            second_factor_options,
            "/account/second-factor/options",
            "staff-second-factor-options",
            second,
        ),
        (
            post,
            second_factor_verify,
            "/account/second-factor/verify",
            "staff-second-factor-verify",
            second,
        ),
    ]


def account_handlers(audience: str) -> list[ControllerRouterHandler]:
    """The own-account routes for one staff audience's router (distinct handler objects per
    audience: Litestar registers a handler under one router)."""
    handlers: list[ControllerRouterHandler] = []
    for method, function, path, name, open_when in _routes():
        handlers.append(
            method(
                path,
                name=f"{name}-{audience}",
                sync_to_thread=True,
                status_code=200,
                opt={"open_when": open_when} if open_when else {},
            )(function)
        )
    return handlers
