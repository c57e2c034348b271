"""Patient enrolment (one-time code → passkey) and passkey sign-in. Public routes.

Pages: ``GET /me/enrol?code=…`` and ``GET /me/sign-in``. The ceremonies are JSON posts made by
``static/js/passkeys.js`` with the CSRF token in ``X-CSRF-Token``:

- ``POST /me/enrol/options`` ``{code}`` → creation options; ``POST /me/enrol/verify``
  ``{code, credential}`` → ``{redirect}`` (account created, code used, session rotated);
- ``POST /me/sign-in/options`` → request options; ``POST /me/sign-in/verify`` ``{credential}``.

A random value in a short-lived cookie binds each stored challenge to this browser. Errors
answer ``{error}`` in the user's language with 400 (or 429 when rate limited).
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import JSONBody, SkipValidation
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from onshi.accounts import services
from onshi.accounts.enrolment import EnrolmentCodeError, open_invitation
from onshi.accounts.errors import SignInRateLimitedError
from onshi.accounts.models import SubjectKind
from onshi.accounts.passkeys import (
    PasskeyConfigurationError,
    PasskeyError,
    RelyingParty,
    relying_party,
)
from onshi.accounts.patient_passkeys import (
    complete_enrolment,
    finish_sign_in,
    start_enrolment,
    start_sign_in,
)
from onshi.clock import Clock
from onshi.errors import DomainError
from onshi.settings import Settings
from onshi.web.i18n import Catalogue
from onshi.web.middleware import CookieNames, well_formed_token
from onshi.web.rendering import format_jst, render
from onshi.web.state import request_lang, request_principal, request_session_token

BINDING_COOKIE = "onshi_passkey"
BINDING_MAX_AGE = 600
LANDING = "/me"


def _binding_name(cookie_names: NamedDependency[CookieNames]) -> str:
    return f"__Host-{BINDING_COOKIE}" if cookie_names.secure else BINDING_COOKIE


def _binding(
    request: Request[Any, Any, Any], cookie_names: NamedDependency[CookieNames]
) -> tuple[str, bool]:
    """This browser's binding value, and whether it must be (re)set."""
    value = request.cookies.get(_binding_name(cookie_names))
    if value is not None and well_formed_token(value):
        return value, False
    return secrets.token_urlsafe(32), True


def _binding_cookie(
    cookie_names: NamedDependency[CookieNames], value: str, max_age: int = BINDING_MAX_AGE
) -> Cookie:
    return Cookie(
        key=_binding_name(cookie_names),
        value=value,
        path="/",
        max_age=max_age,
        secure=cookie_names.secure,
        httponly=True,
        samesite="strict",
    )


def _text(data: Any, name: str, limit: int = 128) -> str | None:
    value = data.get(name) if isinstance(data, dict) else None
    return value[:limit] if isinstance(value, str) else None


def _error(
    request: Request[Any, Any, Any],
    catalogue: NamedDependency[Catalogue],
    error: DomainError,
    status_code: int = 400,
    headers: dict[str, str] | None = None,
    **params: Any,
) -> Response[dict[str, str]]:
    message = catalogue.error_message(request_lang(request), error.code, **error.params, **params)
    return Response(
        {"error": message, "code": error.code}, status_code=status_code, headers=headers or {}
    )


def _config_error(
    request: Request[Any, Any, Any], catalogue: NamedDependency[Catalogue]
) -> Response[dict[str, str]]:
    message = catalogue.translate(request_lang(request), "patient.passkey.misconfigured")
    return Response({"error": message, "code": "passkey.misconfigured"}, status_code=503)


def _relying_party(settings: Settings) -> RelyingParty | None:
    """None when passkeys cannot work with this origin (the pages say so; posts answer 503)."""
    try:
        return relying_party(settings.public_origin, settings.environment)
    except PasskeyConfigurationError:
        return None


def other_origin_url(request: Request[Any, Any, Any], settings: Settings) -> str | None:
    """The same page on the public origin when this request came to another address (e.g.
    ``127.0.0.1`` for ``localhost``): passkeys are bound to the public origin only, so the page
    names the address that works instead of failing with a generic message."""
    public = urlsplit(settings.public_origin)
    host = request.headers.get("host", "").lower()
    if not host or host == public.netloc.lower():
        return None
    query = request.url.query
    return f"{settings.public_origin}{request.url.path}" + (f"?{query}" if query else "")


def _credential(data: Any) -> dict[str, Any] | None:
    credential = data.get("credential") if isinstance(data, dict) else None
    return credential if isinstance(credential, dict) else None


def _options_response(
    options: Any, cookie_names: CookieNames, binding: str, fresh: bool
) -> Response[Any]:
    """Ceremony options; a new binding value is set as its cookie."""
    cookies = [_binding_cookie(cookie_names, binding)] if fresh else []
    return Response(options, cookies=cookies)


def _signed_in(  # noqa: PLR0917 - the request's dependencies, passed on
    request: Request[Any, Any, Any],
    db: Session,
    clock: Clock,
    settings: Settings,
    cookie_names: CookieNames,
    session_policy: services.SessionPolicy,
    account_id: int,
) -> Response[Any]:
    """A finished ceremony: a fresh session (the old one revoked) and the binding cleared."""
    issued = services.rotate_session(
        db,
        clock,
        session_policy,
        old_token=request_session_token(request),
        subject_kind=SubjectKind.PATIENT,
        subject_id=account_id,
        lang=request_lang(request),
    )
    return Response(
        {"redirect": LANDING},
        cookies=[
            cookie_names.session_cookie(issued.token, max_age=settings.session_hours * 3600),
            _binding_cookie(cookie_names, "", max_age=0),
        ],
    )


# -- enrolment ---------------------------------------------------------------------------------


@get("/me/enrol", name="patient-enrol", sync_to_thread=True)
def enrol_page(
    request: Request[Any, Any, Any],
    db: NamedDependency[Session],
    clock: NamedDependency[SkipValidation[Clock]],
    settings: NamedDependency[Settings],
) -> Template:
    code = request.query_params.get("code")
    try:
        invitation = open_invitation(db, clock, code)
    except EnrolmentCodeError as exc:
        return render(
            request, "pages/patient/enrol.html", {"error_code": exc.code}, status_code=400
        )
    configured = _relying_party(settings) is not None
    return render(
        request,
        "pages/patient/enrol.html",
        {
            "invitation": invitation,
            "code": code,
            "configured": configured,
            "right_url": other_origin_url(request, settings),
        },
    )


@post("/me/enrol/options", name="patient-enrol-options", sync_to_thread=True, status_code=200)
def enrol_options(  # noqa: PLR0917 - Litestar injects dependencies by name
    request: Request[Any, Any, Any],
    data: JSONBody[dict[str, Any]],
    db: NamedDependency[Session],
    clock: NamedDependency[SkipValidation[Clock]],
    settings: NamedDependency[Settings],
    catalogue: NamedDependency[Catalogue],
    cookie_names: NamedDependency[CookieNames],
) -> Response[Any]:
    rp = _relying_party(settings)
    if rp is None:
        return _config_error(request, catalogue)
    binding, fresh = _binding(request, cookie_names)
    try:
        options = start_enrolment(
            db,
            clock,
            rp,
            secret_key=settings.secret_key,
            code=_text(data, "code"),
            browser_token=binding,
        )
    except EnrolmentCodeError as exc:
        return _error(request, catalogue, exc)
    return _options_response(options, cookie_names, binding, fresh)


@post("/me/enrol/verify", name="patient-enrol-verify", sync_to_thread=True, status_code=200)
def enrol_verify(  # noqa: PLR0917 - Litestar injects dependencies by name
    request: Request[Any, Any, Any],
    data: JSONBody[dict[str, Any]],
    db: NamedDependency[Session],
    clock: NamedDependency[SkipValidation[Clock]],
    settings: NamedDependency[Settings],
    catalogue: NamedDependency[Catalogue],
    cookie_names: NamedDependency[CookieNames],
    session_policy: NamedDependency[services.SessionPolicy],
) -> Response[Any]:
    rp = _relying_party(settings)
    if rp is None:
        return _config_error(request, catalogue)
    binding, _fresh = _binding(request, cookie_names)
    credential = _credential(data)
    if credential is None:
        return _error(request, catalogue, PasskeyError())
    try:
        # Every check runs before the first write: a refusal leaves nothing behind.
        enrolled = complete_enrolment(
            db,
            clock,
            rp,
            code=_text(data, "code"),
            credential=credential,
            browser_token=binding,
        )
    except (EnrolmentCodeError, PasskeyError) as exc:
        return _error(request, catalogue, exc)
    return _signed_in(
        request, db, clock, settings, cookie_names, session_policy, enrolled.account_id
    )


# -- sign-in -----------------------------------------------------------------------------------


@get("/me/sign-in", name="patient-sign-in", sync_to_thread=False)
def sign_in_page(
    request: Request[Any, Any, Any], settings: NamedDependency[Settings]
) -> Template | Redirect:
    principal = request_principal(request)
    if principal is not None and principal.is_patient:
        return Redirect(LANDING, status_code=303)
    configured = _relying_party(settings) is not None
    return render(
        request,
        "pages/patient/sign_in.html",
        {"configured": configured, "right_url": other_origin_url(request, settings)},
    )


@post("/me/sign-in/options", name="patient-sign-in-options", sync_to_thread=True, status_code=200)
def sign_in_options(  # noqa: PLR0917 - Litestar injects dependencies by name
    request: Request[Any, Any, Any],
    db: NamedDependency[Session],
    clock: NamedDependency[SkipValidation[Clock]],
    settings: NamedDependency[Settings],
    catalogue: NamedDependency[Catalogue],
    cookie_names: NamedDependency[CookieNames],
) -> Response[Any]:
    rp = _relying_party(settings)
    if rp is None:
        return _config_error(request, catalogue)
    binding, fresh = _binding(request, cookie_names)
    options = start_sign_in(db, clock, rp, browser_token=binding)
    return _options_response(options, cookie_names, binding, fresh)


@post("/me/sign-in/verify", name="patient-sign-in-verify", sync_to_thread=True, status_code=200)
def sign_in_verify(  # noqa: PLR0917 - Litestar injects dependencies by name
    request: Request[Any, Any, Any],
    data: JSONBody[dict[str, Any]],
    db: NamedDependency[Session],
    clock: NamedDependency[SkipValidation[Clock]],
    settings: NamedDependency[Settings],
    catalogue: NamedDependency[Catalogue],
    cookie_names: NamedDependency[CookieNames],
    session_policy: NamedDependency[services.SessionPolicy],
    sign_in_limits: NamedDependency[services.SignInLimits],
) -> Response[Any]:
    rp = _relying_party(settings)
    if rp is None:
        return _config_error(request, catalogue)
    binding, _fresh = _binding(request, cookie_names)
    credential = _credential(data)
    result = finish_sign_in(
        db,
        clock,
        rp,
        secret_key=settings.secret_key,
        credential=credential if credential is not None else "{}",
        browser_token=binding,
        limits=sign_in_limits,
        client_ip=request.client.host if request.client else "unknown",
    )
    if isinstance(result.error, SignInRateLimitedError):
        locked = result.error
        return _error(
            request,
            catalogue,
            locked,
            status_code=429,
            headers={"Retry-After": str(locked.retry_after_seconds)},
            retry_at=format_jst(locked.retry_at, "time"),
        )
    if result.error is not None or result.account_id is None:
        return _error(request, catalogue, result.error or PasskeyError())
    return _signed_in(request, db, clock, settings, cookie_names, session_policy, result.account_id)


PATIENT_PUBLIC_HANDLERS = [
    enrol_page,
    enrol_options,
    enrol_verify,
    sign_in_page,
    sign_in_options,
    sign_in_verify,
]
