"""Live verification results for the reception screens (server-sent events).

The one function other code calls, after writing a verification event and before the request's
transaction commits (the request's ``db`` Session commits after the handler returns)::

    from onshi.web.live import announce_verification

    announce_verification(db, state, institution_id=event.institution_id,
                          verification_event_id=event.id)

``state`` is the application's ``State`` (a handler's ``state`` parameter, or
``request.app.state``). Call it for a new event and again whenever the event changes (a pending
目視 check confirmed or rejected): the reception screens re-read the event from the database and
replace its card. A 目視 check waiting for staff (the API's 202) is announced with
``announce_pending_check(db, state, institution_id=…, submission_id=submission.id)``. Nothing is
sent if the transaction rolls back. With no reception screen open, nothing is delivered and
nothing fails.

What happens underneath (:mod:`onshi.web.broker`):

- SQLite (one worker): the in-process broker delivers on the Session's commit;
- PostgreSQL: ``SELECT pg_notify('onshi_verifications', '{"t":"institution:<id>","m":"v:<id>"}')``
  runs in the same transaction, so PostgreSQL delivers it exactly on commit, to every worker's
  LISTEN connection; each worker fans it out to its own open streams.

Why a Session hook rather than a response background task: Litestar commits the request's
``db`` (a generator dependency) when the handler returns, before the response is sent, and runs
background tasks after it was sent, so a background task would also come after the commit; the
``after_commit`` hook is exact and also serves callers outside a request (CLI, batch worker).

The payload only says *which* event at *which* institution; every stream reads the event itself
from ``verification_events`` filtered by the signed-in staff member's institution, so another
institution's results can never reach a screen.

``build_broker(settings)`` picks the backend; :func:`live_lifespan` starts the PostgreSQL listener
with the app and stops it (closing its connection) on shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Final, Literal

from litestar import Litestar
from litestar.datastructures import State
from sqlalchemy.orm import Session

from onshi.settings import Settings
from onshi.verification.lean_writes import ID_MARK, LivePush
from onshi.web.broker import Broker, InProcessBroker, PostgresBroker

CHANNEL: Final = "onshi_verifications"
STATE_KEY: Final = "live"
VERIFICATION_PREFIX: Final = "v:"
PENDING_PREFIX: Final = "p:"
LiveKind = Literal["verification", "pending"]


def institution_topic(institution_id: int) -> str:
    return f"institution:{institution_id}"


def verification_message(verification_event_id: int) -> str:
    return f"{VERIFICATION_PREFIX}{verification_event_id}"


def pending_message(submission_id: int) -> str:
    return f"{PENDING_PREFIX}{submission_id}"


def parse_live_message(message: str) -> tuple[LiveKind, int] | None:
    """``("verification", event id)`` for ``v:<id>``, ``("pending", submission id)`` for
    ``p:<id>``, else ``None``."""
    for prefix, kind in ((VERIFICATION_PREFIX, "verification"), (PENDING_PREFIX, "pending")):
        if message.startswith(prefix):
            digits = message.removeprefix(prefix)
            if digits.isdigit() and len(digits) <= 18:
                return kind, int(digits)  # type: ignore[return-value]
    return None


def build_broker(settings: Settings) -> Broker:
    if settings.is_sqlite:
        return InProcessBroker()
    return PostgresBroker(settings.database_url, CHANNEL)


def broker_of(state: State) -> Broker:
    broker: Broker = state[STATE_KEY]
    return broker


def announce_verification(
    db: Session, state: State, institution_id: int, verification_event_id: int
) -> None:
    """Tell the institution's reception screens about this verification event once ``db``'s
    transaction commits (see the module docstring)."""
    broker_of(state).publish_on_commit(
        db, institution_topic(institution_id), verification_message(verification_event_id)
    )


def live_push(state: State, institution_id: int) -> LivePush | None:
    """On PostgreSQL, the parts of the ``pg_notify`` that :func:`announce_verification` would
    send for a new event at ``institution_id``, for the card check's single write statement
    (onshi.verification.lean_writes), which sends it itself; ``None`` with the in-process
    broker (SQLite), where :func:`announce_verification` costs no database round trip."""
    broker = broker_of(state)
    if not isinstance(broker, PostgresBroker):
        return None
    message = verification_message(0).replace("0", ID_MARK)
    return LivePush(broker.channel, broker.payload(institution_topic(institution_id), message))


def announce_pending_check(
    db: Session, state: State, institution_id: int, submission_id: int
) -> None:
    """Tell the reception screens that a 目視 check (``VerificationSubmission.id``, the internal
    id) now waits for staff, or was rejected, once ``db``'s transaction commits. A confirmed
    check is announced with :func:`announce_verification` for the event it produced."""
    broker_of(state).publish_on_commit(
        db, institution_topic(institution_id), pending_message(submission_id)
    )


def live_lifespan(broker: Broker) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(_app: Litestar) -> AsyncGenerator[None, None]:
        await broker.start()
        try:
            yield
        finally:
            await broker.stop()

    return lifespan
