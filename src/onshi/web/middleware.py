"""Per-request context: language, signed-in principal (DB-backed session) and CSRF check.

One ASGI middleware, in this order:
1. language: ``?lang=`` (remembered in the ``lang`` cookie), else the cookie, else Japanese;
2. session: the cookie holds a random token; the accounts service finds the session by the token's
   SHA-256, checks idle and absolute expiry and returns a :class:`Principal` (in a worker thread,
   with its own short transaction);
3. CSRF: the token is ``HMAC(secret, csrf-cookie | session-token)``, so it is bound to the
   session and changes when the session rotates. Unsafe methods must send it as the ``csrf_token``
   form field or the ``X-CSRF-Token`` header (htmx: ``hx-headers`` on ``<body>``).

Paths under a CSRF-exempt prefix (``/api/``: device-signed requests) or handlers with
``opt={"csrf_exempt": True}`` skip the check, and for them the session cookie is ignored too, so
an exempt route can never act on a browser's cookie session.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
from litestar import Request
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from onshi.accounts.schemas import Principal
from onshi.settings import Settings
from onshi.web.i18n import DEFAULT_LANG, Lang, parse_lang
from onshi.web.state import set_csrf_token, set_lang, set_principal

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_FORM_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
LANG_COOKIE = "lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32,128}$")
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

SessionResolver = Callable[[str], Principal | None]


@dataclass(frozen=True)
class CookieNames:
    session: str
    csrf: str
    secure: bool

    @classmethod
    def for_settings(cls, settings: Settings) -> CookieNames:
        prefix = "__Host-" if settings.secure_cookies else ""
        return cls(
            session=f"{prefix}onshi_session",
            csrf=f"{prefix}onshi_csrf",
            secure=settings.secure_cookies,
        )

    def session_cookie(self, token: str, max_age: int) -> Cookie:
        return Cookie(
            key=self.session,
            value=token,
            path="/",
            max_age=max_age,
            secure=self.secure,
            httponly=True,
            samesite="lax",
        )

    def expired_session_cookie(self) -> Cookie:
        return Cookie(
            key=self.session,
            value="",
            path="/",
            max_age=0,
            secure=self.secure,
            httponly=True,
            samesite="lax",
        )


@dataclass(frozen=True)
class WebContextConfig:
    settings: Settings
    resolve_session: SessionResolver
    csrf_exempt_prefixes: tuple[str, ...] = ("/api/",)
    passthrough_prefixes: tuple[str, ...] = ("/static/", "/healthz")
    cookies: CookieNames = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "cookies", CookieNames.for_settings(self.settings))


def well_formed_token(value: str | None) -> bool:
    return value is not None and _TOKEN_RE.fullmatch(value) is not None


def csrf_token_for(secret: str, csrf_cookie: str, session_token: str | None) -> str:
    message = f"{csrf_cookie}|{session_token or ''}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class WebContextMiddleware:
    def __init__(self, app: ASGIApp, config: WebContextConfig) -> None:
        self.app = app
        self.config = config

    def _exempt(self, scope: Scope) -> bool:
        if scope["path"].startswith(self.config.csrf_exempt_prefixes):
            return True
        handler = scope.get("route_handler")
        return bool(handler is not None and handler.opt.get("csrf_exempt"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["path"].startswith(
            self.config.passthrough_prefixes
        ):
            await self.app(scope, receive, send)
            return
        names = self.config.cookies
        request: Request[Any, Any, Any] = Request(scope, receive)
        cookies = request.cookies
        set_cookies: list[Cookie] = []

        # The device API (CSRF-exempt prefixes) is not a browser: it gets no cookie at all.
        cookieless = scope["path"].startswith(self.config.csrf_exempt_prefixes)
        query_lang = parse_lang(request.query_params.get("lang"))
        lang: Lang = query_lang or parse_lang(cookies.get(LANG_COOKIE)) or DEFAULT_LANG
        if query_lang is not None and cookies.get(LANG_COOKIE) != query_lang and not cookieless:
            set_cookies.append(self.lang_cookie(query_lang))
        set_lang(scope, lang)

        exempt = self._exempt(scope)
        session_token = None if exempt else cookies.get(names.session)
        principal: Principal | None = None
        if session_token is not None and well_formed_token(session_token):
            principal = await anyio.to_thread.run_sync(self.config.resolve_session, session_token)
        if session_token and principal is None:
            set_cookies.append(names.expired_session_cookie())
        set_principal(scope, principal, session_token)

        csrf_cookie = cookies.get(names.csrf)
        if csrf_cookie is None or not well_formed_token(csrf_cookie):
            csrf_cookie = secrets.token_urlsafe(32)
        if csrf_cookie != cookies.get(names.csrf) and not cookieless:
            set_cookies.append(
                Cookie(
                    key=names.csrf,
                    value=csrf_cookie,
                    path="/",
                    secure=names.secure,
                    httponly=True,
                    samesite="lax",
                )
            )
        expected = csrf_token_for(
            self.config.settings.secret_key,
            csrf_cookie,
            session_token if principal is not None else None,
        )
        set_csrf_token(scope, expected)

        if not exempt and scope["method"] not in SAFE_METHODS:
            submitted = request.headers.get(CSRF_HEADER)
            if not submitted and request.content_type[0] in _FORM_TYPES:
                form = await request.form()
                value = form.get(CSRF_FORM_FIELD)
                submitted = value if isinstance(value, str) else None
            if not submitted or not hmac.compare_digest(submitted, expected):
                raise PermissionDeniedException(detail="csrf")

        if not set_cookies:
            await self.app(scope, receive, send)
            return

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                already = {
                    value.split("=", 1)[0].strip() for value in headers.getall("set-cookie", [])
                }
                for cookie in set_cookies:
                    if cookie.key not in already:
                        headers.add("set-cookie", cookie.to_header(header=""))
            await send(message)

        await self.app(scope, receive, send_with_cookies)

    def lang_cookie(self, lang: Lang) -> Cookie:
        return lang_cookie(lang, secure=self.config.cookies.secure)


def lang_cookie(lang: Lang, *, secure: bool) -> Cookie:
    return Cookie(
        key=LANG_COOKIE,
        value=lang,
        path="/",
        max_age=LANG_COOKIE_MAX_AGE,
        secure=secure,
        httponly=True,
        samesite="lax",
    )
