"""``/favicon.ico``: browsers and tools ask for it on every site; pages link the SVG icon in
``static/`` and this answers the conventional path with a redirect to it (no 404 per page)."""

from __future__ import annotations

from litestar import get
from litestar.response import Redirect

FAVICON_PATH = "/static/favicon.svg"


@get("/favicon.ico", name="favicon", sync_to_thread=False, include_in_schema=False)
def favicon() -> Redirect:
    return Redirect(FAVICON_PATH, status_code=301, headers={"Cache-Control": "max-age=86400"})
