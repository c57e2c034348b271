"""The request owns the transaction: one Session per request, committed after the handler
returns, rolled back if it raised. Services flush, never commit."""

from __future__ import annotations

from collections.abc import Generator

from litestar.datastructures import State
from sqlalchemy.orm import Session, sessionmaker


def provide_db_session(state: State) -> Generator[Session, None, None]:
    factory: sessionmaker[Session] = state.session_factory
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
