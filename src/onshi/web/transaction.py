"""The request owns the transaction: one Session per request, committed after the handler
returns, rolled back if it raised. Services flush, never commit.

Why the commit runs in anyio's worker threads and not in Litestar's: Litestar runs sync handlers
(``sync_to_thread=True``) *and* the clean-up of sync generator dependencies in the event loop's
default executor, which has only ``min(32, CPUs + 4)`` threads (6 on two cores). Audited
writes used to hold a hash chain's head row lock until their transaction ended; with the commit
queued in that same executor, six concurrent audited requests in one worker filled it with
handlers waiting for the lock while the lock holder's commit waited for a thread, and the worker
hung for good. Audit entries take no shared lock now (:mod:`onshi.audit.services`), but any row
lock a handler waits for (a challenge claim, a SQLite write) has the same shape, so the commit
stays in anyio's separate pool, where a holder can always commit.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import anyio.to_thread
from litestar.datastructures import State
from sqlalchemy.orm import Session, sessionmaker


def _commit_and_close(session: Session) -> None:
    try:
        session.commit()
    finally:
        session.close()


def _rollback_and_close(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()


async def provide_db_session(state: State) -> AsyncGenerator[Session, None]:
    factory: sessionmaker[Session] = state.session_factory
    session = factory()
    try:
        yield session
    except BaseException:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(_rollback_and_close, session)
        raise
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(_commit_and_close, session)
