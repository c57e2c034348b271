"""An open reception stream stops delivering within a few seconds once its sign-in is no longer
valid: sign-out, session expiry, account disabled, role changed. (It used to run on for up to
300 s, sending every new patient's name.)"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from onshi.accounts.models import StaffAccount, StaffRole
from onshi.app import create_app
from onshi.clock import FrozenClock
from onshi.institutions.models import Institution
from onshi.verification.models import VerificationMethod
from onshi.web.clinic.reception import SESSION_CHECK_SECONDS
from onshi.web.live import announce_verification
from tests.factories import (
    DEFAULT_PASSWORD,
    make_institution,
    make_person,
    make_qualification,
    make_staff_account,
    make_verification_event,
)
from tests.integration.web.conftest import FAST_PASSWORDS, web_settings
from tests.integration.web.live_helpers import (
    SseEvent,
    SseReader,
    live_server,
    signed_in_client,
)

# a few seconds: the check interval plus room for a loaded machine
STOPS_WITHIN = SESSION_CHECK_SECONDS + 4
_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


@pytest.fixture
def live_app(db_engine: Engine, clock: FrozenClock) -> Litestar:
    return create_app(web_settings(db_engine), clock, passwords=FAST_PASSWORDS)


@pytest.fixture
def base_url(live_app: Litestar) -> Iterator[str]:
    with live_server(live_app) as url:
        yield url


def _announce_patient(db: Session, app: Litestar, institution: Institution, name: str) -> None:
    person = make_person(db, family_name=name, given_name="花子")
    event = make_verification_event(
        db,
        institution=institution,
        qualification=make_qualification(db, person=person),
        method=VerificationMethod.CARD_FACE,
    )
    announce_verification(db, app.state, institution.id, event.id)
    db.commit()


def _delivered(stream: SseReader) -> list[str]:
    """Every event the stream still delivered (the first card may come twice: catch-up and
    live)."""
    found: list[str] = []
    while not stream.events.empty():
        item = stream.events.get_nowait()
        if isinstance(item, SseEvent):
            found.append(item.data)
    return found


def _sign_out(client: httpx.Client) -> None:
    match = _CSRF.search(client.get("/clinic/reception").text)
    assert match is not None
    assert client.post("/sign-out", data={"csrf_token": match.group(1)}).status_code == 303


def _disable(db: Session, staff: StaffAccount) -> None:
    db.execute(update(StaffAccount).where(StaffAccount.id == staff.id).values(active=False))
    db.commit()


def _demote(db: Session, staff: StaffAccount) -> None:
    db.execute(
        update(StaffAccount).where(StaffAccount.id == staff.id).values(role=StaffRole.DOCTOR)
    )
    db.commit()


@pytest.mark.parametrize("ending", ["sign_out", "expiry", "disabled", "role_changed"])
def test_the_stream_stops_within_seconds_when_the_sign_in_ends(
    live_app: Litestar, base_url: str, db: Session, clock: FrozenClock, ending: str
) -> None:
    institution = make_institution(db)
    clerk = make_staff_account(db, StaffRole.RECEPTION, institution=institution)
    db.commit()
    with signed_in_client(base_url, clerk.login_id, DEFAULT_PASSWORD) as client:
        # after=0: the first card arrives by catch-up even if it beats the subscription
        stream = SseReader(client, "/clinic/reception/stream?after=0")
        try:
            assert stream.status == 200
            _announce_patient(db, live_app, institution, "前田")
            assert "前田" in stream.next().data  # live while signed in

            end: dict[str, Callable[[], None]] = {
                "sign_out": lambda: _sign_out(client),
                "expiry": lambda: clock.advance(timedelta(hours=9)),
                "disabled": lambda: _disable(db, clerk),
                "role_changed": lambda: _demote(db, clerk),
            }
            end[ending]()
            # a new patient right after: never reaches the screen
            _announce_patient(db, live_app, institution, "秘密")
            assert stream.ended_within(STOPS_WITHIN), "the stream kept running"
            assert not any("秘密" in data for data in _delivered(stream))
        finally:
            stream.close()


def test_a_quiet_stream_also_stops_without_any_new_result(
    base_url: str, db: Session, clock: FrozenClock
) -> None:
    institution = make_institution(db)
    clerk = make_staff_account(db, StaffRole.RECEPTION, institution=institution)
    db.commit()
    with signed_in_client(base_url, clerk.login_id, DEFAULT_PASSWORD) as client:
        # after=0: the first card arrives by catch-up even if it beats the subscription
        stream = SseReader(client, "/clinic/reception/stream?after=0")
        try:
            assert not stream.ended_within(SESSION_CHECK_SECONDS + 0.5)  # checks pass: stays
            clock.advance(timedelta(minutes=31))  # idle timeout
            assert stream.ended_within(STOPS_WITHIN)
        finally:
            stream.close()
