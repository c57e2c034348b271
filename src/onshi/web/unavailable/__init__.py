"""When the database cannot answer in time: 503 ``service.unavailable`` with ``Retry-After``.

The API answers with the usual error object; a page answers with 「資格を確認できませんでした」
and what reception does instead (the patient's own マイナポータル qualification screen, then a
資格確認書 or insurance card, then a 被保険者資格申立書; verify afterwards), in place of the
result, so no earlier 有効 stays on screen. docs/operations.md ("Database unavailable"). The
response itself is built by ``onshi.web.errors.unavailable_response``.
"""

from __future__ import annotations

from typing import Final

RETRY_AFTER_SECONDS: Final = 5
CODE: Final = "service.unavailable"
PAGE: Final = "errors/503.html"
FRAGMENT: Final = "partials/unavailable/_notice.html"


def retry_headers() -> dict[str, str]:
    return {"Retry-After": str(RETRY_AFTER_SECONDS)}
