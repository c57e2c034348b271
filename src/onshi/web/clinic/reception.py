"""受付: the reception screen. Every verification at this institution appears live, newest first.

``GET /clinic/reception``         the page (latest cards and pending 目視 checks rendered here);
                                  for htmx (the minute refresh) only the board fragment.
``GET /clinic/reception/stream``  server-sent events: ``verification`` (a result card, ``id``
                                  = the newest event id sent) and ``pending`` (a 目視 check card).
                                  ``Last-Event-ID`` (or ``?after=``) replays the missed events.

A stream subscribes to its institution's topic (:mod:`onshi.web.live`) and re-reads each announced
event from the database with the institution filter, so an announcement can only ever show this
institution's own data. Every :data:`SESSION_CHECK_SECONDS`, and before each card it sends,
it re-reads the session (:func:`onshi.accounts.session_check.session_unchanged`) and ends as
soon as the clerk signed out, the session expired, the account was disabled or its role
changed; the browser's reconnection then meets the guard. It also ends after
:data:`STREAM_SECONDS`, so every stream passes the guard again now and then.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import Any, Final, TypeVar

import anyio.to_thread
from litestar import Request, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, SkipValidation
from litestar.response import Redirect, ServerSentEvent, Template
from litestar.response.sse import ServerSentEventMessage
from sqlalchemy.orm import Session, sessionmaker

from onshi.accounts.schemas import Principal
from onshi.accounts.session_check import session_unchanged
from onshi.clock import Clock
from onshi.errors import NotFoundError
from onshi.institutions.queries import get_institution
from onshi.verification.feed import (
    latest_event_id,
    pending_checks,
    reception_cards,
)
from onshi.verification.services import Outcome
from onshi.verification.visual import confirm_visual, reject_visual
from onshi.web.broker import CLOSED, RESYNC
from onshi.web.dependencies import session_policy
from onshi.web.htmx import add_vary, page_or_fragment
from onshi.web.live import (
    announce_pending_check,
    announce_verification,
    broker_of,
    institution_topic,
    parse_live_message,
)
from onshi.web.rendering import base_context

CARDS_SHOWN: Final = 20
CATCH_UP_LIMIT: Final = 100
RETRY_MS: Final = 2000
KEEPALIVE_SECONDS: Final = 15.0
STREAM_SECONDS: Final = 300.0
SESSION_CHECK_SECONDS: Final = 3.0
CARD_TEMPLATE: Final = "partials/verification/_reception_card.html"
PENDING_TEMPLATE: Final = "partials/verification/_pending_check.html"

T = TypeVar("T")


def _institution_id(principal: Principal) -> int:
    if principal.institution_id is None:  # excluded by a DB constraint for clinic roles
        raise NotFoundError()
    return principal.institution_id


def parse_event_id(value: str | None) -> int | None:
    """A non-negative event id from ``Last-Event-ID`` / ``?after=``; anything else is ignored."""
    if value is None:
        return None
    value = value.strip()
    if not value.isdigit() or len(value) > 18:
        return None
    return int(value)


@get("/reception", name="clinic-reception", sync_to_thread=True)
def reception_page(
    request: Request[Any, Any, Any],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template:
    institution_id = _institution_id(principal)
    now = clock.now()
    cards = reception_cards(db, institution_id=institution_id, now=now, limit=CARDS_SHOWN)
    context: dict[str, Any] = {
        "institution": get_institution(db, institution_id),
        "cards": cards,
        "pending": pending_checks(db, institution_id=institution_id, now=now),
        "stream_after": cards[0].event_id
        if cards
        else latest_event_id(db, institution_id=institution_id),
    }
    return page_or_fragment(
        request,
        page="pages/clinic/reception.html",
        fragment="partials/verification/_reception_board.html",
        context=context,
    )


@get("/reception/stream", name="clinic-reception-stream")
async def reception_stream(
    request: Request[Any, Any, Any],
    state: State,
    principal: NamedDependency[SkipValidation[Principal]],
) -> ServerSentEvent:
    institution_id = _institution_id(principal)
    cursor = parse_event_id(request.headers.get("last-event-id")) or parse_event_id(
        request.query_params.get("after")
    )
    feed = _Feed(request, state, institution_id, principal)
    return ServerSentEvent(
        feed.messages(cursor),
        headers={"X-Accel-Buffering": "no", "Cache-Control": "no-store"},
    )


class _Feed:
    """One open stream: reads cards in the thread pool, renders them in the request's language."""

    def __init__(
        self,
        request: Request[Any, Any, Any],
        state: State,
        institution_id: int,
        principal: Principal,
    ) -> None:
        self.institution_id = institution_id
        self.principal = principal
        self.policy = session_policy(state.settings)
        self.broker = broker_of(state)
        self.session_factory: sessionmaker[Session] = state.session_factory
        self.clock: Clock = state.clock
        self.context = base_context(request)
        engine = request.app.template_engine
        if engine is None:  # the app always configures Jinja; a wiring mistake otherwise
            raise RuntimeError("reception stream needs the template engine")
        self.templates = engine

    async def _read(self, query: Callable[[Session], T]) -> T:
        def run() -> T:
            with self.session_factory() as db:
                return query(db)

        return await anyio.to_thread.run_sync(run)

    async def _signed_in(self) -> bool:
        return await self._read(
            lambda db: session_unchanged(db, self.clock, self.policy, self.principal)
        )

    def _render(self, template: str, values: Mapping[str, Any]) -> str:
        rendered: str = self.templates.get_template(template).render(**self.context, **values)
        return rendered.strip()

    async def _cards_after(self, cursor: int) -> tuple[list[str], int]:
        cards = await self._read(
            lambda db: reception_cards(
                db,
                institution_id=self.institution_id,
                now=self.clock.now(),
                limit=CATCH_UP_LIMIT,
                after_id=cursor,
            )
        )
        if not cards:
            return [], cursor
        # Oldest first, so that the screen, which puts each new card on top, ends newest first.
        html = [self._render(CARD_TEMPLATE, {"card": card}) for card in reversed(cards)]
        return html, max(cursor, cards[0].event_id)

    async def _card(self, event_id: int) -> str | None:
        cards = await self._read(
            lambda db: reception_cards(
                db, institution_id=self.institution_id, now=self.clock.now(), event_ids=[event_id]
            )
        )
        return self._render(CARD_TEMPLATE, {"card": cards[0]}) if cards else None

    async def _pending(self, submission_id: int) -> str | None:
        checks = await self._read(
            lambda db: pending_checks(
                db,
                institution_id=self.institution_id,
                now=self.clock.now(),
                submission_ids=[submission_id],
            )
        )
        return self._render(PENDING_TEMPLATE, {"check": checks[0]}) if checks else None

    async def messages(self, cursor: int | None) -> AsyncGenerator[ServerSentEventMessage, None]:
        topic = institution_topic(self.institution_id)
        async with self.broker.subscribe(topic) as subscription:
            # Subscribed first, then read: nothing committed in between can be missed.
            yield ServerSentEventMessage(data=None, comment="live", retry=RETRY_MS)
            if cursor is None:
                cursor = await self._read(
                    lambda db: latest_event_id(db, institution_id=self.institution_id)
                )
            else:
                cards, cursor = await self._cards_after(cursor)
                for html in cards:
                    yield ServerSentEventMessage(data=html, event="verification", id=cursor)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + STREAM_SECONDS
            quiet_since = next_check = loop.time()
            while (left := deadline - loop.time()) > 0:
                wait = min(left, SESSION_CHECK_SECONDS, KEEPALIVE_SECONDS)
                message = await subscription.get(timeout=max(0.01, wait))
                now = loop.time()
                # before anything else is sent, and every few seconds: still this sign-in?
                if (message is not None or now >= next_check) and not await self._signed_in():
                    return
                if now >= next_check:
                    next_check = now + SESSION_CHECK_SECONDS
                if message is None:
                    if now - quiet_since >= KEEPALIVE_SECONDS:
                        quiet_since = now
                        yield ServerSentEventMessage(data=None, comment="keep-alive")
                    continue
                quiet_since = now
                if message == CLOSED:
                    return
                parsed = parse_live_message(message) if message != RESYNC else ("resync", 0)
                if parsed is None:
                    continue
                kind, object_id = parsed
                if kind == "pending":
                    pending_html = await self._pending(object_id)
                    if pending_html is not None:
                        yield ServerSentEventMessage(data=pending_html, event="pending")
                elif kind == "resync" or object_id > cursor:
                    cards, cursor = await self._cards_after(cursor)
                    for html in cards:
                        yield ServerSentEventMessage(data=html, event="verification", id=cursor)
                else:  # an event already shown changed (e.g. a 目視 check settled): replace it
                    card_html = await self._card(object_id)
                    if card_html is not None:
                        yield ServerSentEventMessage(
                            data=card_html, event="verification", id=cursor
                        )


def _announce(db: Session, state: State, outcome: Outcome) -> None:
    """The decided check leaves the pending list and its result card appears, on every screen
    of the institution, once this request's transaction commits."""
    if outcome.institution_id is None:
        return
    if outcome.submission_id is not None:
        announce_pending_check(db, state, outcome.institution_id, outcome.submission_id)
    if outcome.verification_event_id is not None:
        announce_verification(db, state, outcome.institution_id, outcome.verification_event_id)


def _decided(request: Request[Any, Any, Any]) -> Redirect:
    return Redirect("/clinic/reception", status_code=303, headers=add_vary({}))


@post(
    "/reception/visual/{verification_id:str}/confirm",
    name="clinic-reception-visual-confirm",
    sync_to_thread=True,
)
def confirm_visual_check(  # noqa: PLR0917 - Litestar injects dependencies by name
    request: Request[Any, Any, Any],
    verification_id: FromPath[str],
    state: State,
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Redirect:
    """確認: the staff member compared the card photo with the patient (404 for another
    institution's check, ``visual.not_pending`` when decided already or too old)."""
    _announce(db, state, confirm_visual(db, clock, principal, verification_id))
    return _decided(request)


@post(
    "/reception/visual/{verification_id:str}/reject",
    name="clinic-reception-visual-reject",
    sync_to_thread=True,
)
def reject_visual_check(  # noqa: PLR0917 - Litestar injects dependencies by name
    request: Request[Any, Any, Any],
    verification_id: FromPath[str],
    state: State,
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Redirect:
    """却下: the patient is not the card holder."""
    _announce(db, state, reject_visual(db, clock, principal, verification_id))
    return _decided(request)


RECEPTION_HANDLERS: Final = [
    reception_page,
    reception_stream,
    confirm_visual_check,
    reject_visual_check,
]
