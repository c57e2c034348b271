"""htmx helpers: one URL answers with the full page, or with only its fragment when htmx asks.

``page_or_fragment(request, page=..., fragment=..., context=...)`` renders ``page`` for a normal
request (or an ``hx-boost`` navigation, which swaps the whole body) and ``fragment`` for any other
htmx request. Both answers carry ``Vary: HX-Request`` so caches keep them apart.

Error fragments: htmx 2 does not swap 4xx/5xx answers. A fragment answered with an error status
(a refused form: each problem next to its field, no stale result) carries
``Onshi-Fragment: error``; ``static/js/htmx-errors.js`` swaps exactly those into their target,
and puts the message of any other error answer into the page's ``#htmx-error`` live region.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Request
from litestar.response import Template

from onshi.web.rendering import render

VARY_HEADER = "HX-Request"
ERROR_FRAGMENT_HEADER = "Onshi-Fragment"


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("hx-request", "").lower() == "true"


def is_boosted(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("hx-boosted", "").lower() == "true"


def wants_fragment(request: Request[Any, Any, Any]) -> bool:
    return is_htmx(request) and not is_boosted(request)


def add_vary(headers: dict[str, str], value: str = VARY_HEADER) -> dict[str, str]:
    existing = [part.strip() for part in headers.get("Vary", "").split(",") if part.strip()]
    if value.lower() not in {part.lower() for part in existing}:
        existing.append(value)
    headers["Vary"] = ", ".join(existing)
    return headers


def page_or_fragment(
    request: Request[Any, Any, Any],
    *,
    page: str,
    fragment: str,
    context: Mapping[str, Any] | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Template:
    """The fragment template must render on its own; the page template normally includes it
    (``{% include fragment %}``) so both answers show the same markup."""
    as_fragment = wants_fragment(request)
    chosen = fragment if as_fragment else page
    answer_headers = add_vary(dict(headers or {}))
    if as_fragment and status_code >= 400:
        answer_headers.update(error_fragment_headers())
    return render(request, chosen, context, status_code=status_code, headers=answer_headers)


def error_fragment_headers() -> dict[str, str]:
    """Headers of an htmx answer that is an error fragment to swap into the request's target."""
    return {ERROR_FRAGMENT_HEADER: "error"}


def hx_redirect_headers(location: str) -> dict[str, str]:
    """For an htmx request a 3xx would be followed inside the XHR; ask htmx to navigate."""
    return {"HX-Redirect": location}
