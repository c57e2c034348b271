"""When the database cannot answer in time: 503 ``service.unavailable`` with ``Retry-After``.

The API answers with the usual error object; a page answers with 「資格を確認できませんでした」
and what reception does instead (the patient's own マイナポータル qualification screen, then a
資格確認書 or insurance card, then a 被保険者資格申立書; verify afterwards), in place of the
result, so no earlier 有効 stays on screen. docs/operations.md ("Database unavailable").
"""

from __future__ import annotations

from typing import Any, Final

from litestar import Request, Response

RETRY_AFTER_SECONDS: Final = 5
CODE: Final = "service.unavailable"
PAGE: Final = "errors/503.html"
FRAGMENT: Final = "partials/unavailable/_notice.html"


def retry_headers() -> dict[str, str]:
    return {"Retry-After": str(RETRY_AFTER_SECONDS)}


def unavailable_response(request: Request[Any, Any, Any]) -> Response[Any]:
    from onshi.web.errors import error_response
    from onshi.web.htmx import add_vary, wants_fragment
    from onshi.web.rendering import render

    if request.url.path.startswith("/api/"):
        return error_response(
            request, 503, CODE, {"retry_after": RETRY_AFTER_SECONDS}, headers=retry_headers()
        )
    return render(
        request,
        FRAGMENT if wants_fragment(request) else PAGE,
        {"status_code": 503, "error_code": CODE, "retry_after": RETRY_AFTER_SECONDS},
        status_code=503,
        headers=add_vary(retry_headers()),
    )
