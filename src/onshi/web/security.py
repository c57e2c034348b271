"""Security headers on every response (pages, fragments, errors, static files).

Applied as a ``before_send`` hook, which Litestar runs for every message the app sends, so
responses built by exception handlers and the router's own 404 get them too. The CSP allows no
inline script or style: htmx is configured through ``<meta name="htmx-config">`` (no eval, no
injected indicator styles) and every style lives in ``static/css``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

from onshi.settings import Settings

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "object-src 'none'",
    )
)

PERMISSIONS_POLICY = ", ".join(
    (
        "camera=()",
        "microphone=()",
        "geolocation=()",
        "payment=()",
        "usb=()",
        "serial=()",
        "bluetooth=()",
        "interest-cohort=()",
        "publickey-credentials-get=(self)",
        "publickey-credentials-create=(self)",
    )
)

HSTS = "max-age=63072000; includeSubDomains"
API_PREFIX = "/api/"


def security_headers(settings: Settings) -> Mapping[str, str]:
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Permissions-Policy": PERMISSIONS_POLICY,
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if settings.uses_https:
        # Also when the hop from the TLS-terminating proxy is plain HTTP: the browser's is not.
        headers["Strict-Transport-Security"] = HSTS
    return headers


def security_headers_hook(settings: Settings) -> Callable[[Message, Scope], Awaitable[None]]:
    headers_to_set = security_headers(settings)

    async def before_send(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        for name, value in headers_to_set.items():
            if headers.get(name) is None:
                headers[name] = value
        if scope.get("state", {}).get("onshi.principal") is not None or scope.get(
            "path", ""
        ).startswith(API_PREFIX):
            # Signed-in pages and API answers (qualification, names, results) hold personal
            # data: keep them out of shared and back-button caches.
            headers["Cache-Control"] = "no-store"

    return before_send
