"""Integer path parameters outside the database's range are a plain 404.

Ids (and log positions, from 0) are signed 64-bit integers (``BIGINT``). A path such as
``/me/drugs/99999999999999999999`` would otherwise reach the database driver, which cannot bind
it (SQLite: ``OverflowError``, PostgreSQL: out of range), and the request would end in a 500. No
object has such an id, so the answer is the same 404 as for any id that does not exist. Applied
to every route as the app's ``before_request`` hook.
"""

from __future__ import annotations

from typing import Any, Final

from litestar import Request

from onshi.errors import NotFoundError

MAX_ID: Final = 2**63 - 1


def reject_out_of_range_ids(request: Request[Any, Any, Any]) -> None:
    for value in request.path_params.values():
        if isinstance(value, int) and not isinstance(value, bool) and not 0 <= value <= MAX_ID:
            raise NotFoundError()
