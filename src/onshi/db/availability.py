"""Is this exception "the database cannot answer now" (a lock held too long, no connection, the
pool exhausted), as opposed to a bug? The web layer answers the first with 503
``service.unavailable`` and a ``Retry-After``, never 500 (src/onshi/web/errors.py).

The waits are bounded by ``ONSHI_DB_TIMEOUT_SECONDS`` (src/onshi/db/engine.py), so a locked or
unreachable database costs a request at most that long.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import exc as sa_exc

_SQLITE_UNAVAILABLE: Final[tuple[str, ...]] = (
    "database is locked",
    "database table is locked",
    "database is busy",
    "unable to open database",
    "disk i/o error",
)
# PostgreSQL SQLSTATEs: 08 connection, 53 insufficient resources, 55P03 lock_not_available,
# 57014 query_canceled (statement_timeout), 57P01-57P05 shutdown / cannot connect now.
_POSTGRES_CLASSES: Final[tuple[str, ...]] = ("08", "53", "55P03", "57014", "57P")


def database_unavailable(error: BaseException) -> bool:
    if isinstance(error, sa_exc.TimeoutError):  # the connection pool's wait ran out
        return True
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    if not isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
        return False
    original = error.orig
    sqlstate = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    if isinstance(sqlstate, str):
        return sqlstate.startswith(_POSTGRES_CLASSES)
    module = type(original).__module__
    if module.startswith(("psycopg", "psycopg2")):
        return True  # connection failures carry no SQLSTATE
    text = str(original).lower()
    return any(marker in text for marker in _SQLITE_UNAVAILABLE)
