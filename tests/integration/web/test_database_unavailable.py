"""The database cannot answer in time (a write lock held elsewhere): every check answers within
ONSHI_DB_TIMEOUT_SECONDS with 503 service.unavailable and Retry-After, never 500, and the web
lookup shows 「資格を確認できませんでした」 with the fallbacks in place of any result."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from onshi.accounts.models import StaffRole
from onshi.app import create_app
from onshi.clock import FrozenClock
from tests.device_client import make_paired_device
from tests.factories import (
    DEFAULT_PASSWORD,
    make_insurer,
    make_person,
    make_qualification,
    make_staff_account,
)
from tests.integration.web.conftest import FAST_PASSWORDS, web_settings
from tests.integration.web.web_helpers import csrf_from, sign_in

TIMEOUT = 1
# the timeout, plus generous room for a loaded machine; the old code waited 30 s
BOUND = TIMEOUT + 6
# what a check, a sign-in and a signed request write (EXCLUSIVE: reads still pass)
LOCKED_TABLES = ("audit_events", "device_request_nonces", "verification_events")


@contextmanager
def write_locked(engine: Engine) -> Iterator[None]:
    """Another process holds the database's write lock (SQLite) or an exclusive lock on the
    table every audited write goes through (PostgreSQL)."""
    if engine.dialect.name == "sqlite":
        assert engine.url.database is not None
        other = sqlite3.connect(engine.url.database, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    with engine.connect() as other:
        for table in LOCKED_TABLES:
            other.execute(text(f"LOCK TABLE {table} IN EXCLUSIVE MODE"))
        try:
            yield
        finally:
            other.rollback()


def _client(db_engine: Engine, clock: FrozenClock) -> TestClient[Litestar]:
    app = create_app(
        web_settings(db_engine, db_timeout_seconds=TIMEOUT), clock, passwords=FAST_PASSWORDS
    )
    return TestClient(app)


def _lookup_form(db: Session, csrf: str) -> dict[str, str]:
    insurer = make_insurer(db)
    qualification = make_qualification(db, make_person(db), insurer)
    db.commit()
    return {
        "csrf_token": csrf,
        "insurer_number": insurer.number,
        "symbol": qualification.symbol or "",
        "number": qualification.number,
        "branch": "",
        "birth_date": "1980-05-17",
        "institution_patient_number": "",
    }


def test_web_lookup_says_not_verified_in_place_and_drops_the_old_result(
    db: Session, db_engine: Engine, clock: FrozenClock
) -> None:
    staff = make_staff_account(db, StaffRole.RECEPTION)
    db.commit()
    with _client(db_engine, clock) as client:
        assert sign_in(client, staff.login_id, DEFAULT_PASSWORD).status_code == 303
        form = _lookup_form(db, csrf_from(client.get("/clinic/lookup").text))
        hx = {"HX-Request": "true"}
        first = client.post("/clinic/lookup", data=form, headers=hx)
        assert first.status_code == 200
        assert "有効" in first.text
        with write_locked(db_engine):
            started = time.monotonic()
            answer = client.post("/clinic/lookup", data=form, headers=hx)
            elapsed = time.monotonic() - started
        assert answer.status_code == 503, answer.text[:300]
        assert elapsed < BOUND
        assert answer.headers["Retry-After"] == "5"
        assert 'id="lookup"' in answer.text  # the form's own fragment, swapped in place
        assert "資格を確認できませんでした" in answer.text
        assert "被保険者資格申立書" in answer.text
        assert "有効" not in answer.text
        assert "lookup-result" not in answer.text
        english = client.post("/clinic/lookup?lang=en", data=form)  # without htmx: a page
        # unlocked again: the check works
        assert english.status_code == 200


def test_pages_answer_503_with_the_fallbacks_never_500(
    db: Session, db_engine: Engine, clock: FrozenClock
) -> None:
    staff = make_staff_account(db, StaffRole.RECEPTION)
    db.commit()
    with _client(db_engine, clock) as client, write_locked(db_engine):
        started = time.monotonic()
        # signing in writes a session and an audit record: the lock is in the way
        answer = client.post(
            "/clinic/sign-in?lang=en",
            data={
                "login_id": staff.login_id,
                "password": DEFAULT_PASSWORD,
                "csrf_token": csrf_from(client.get("/clinic/sign-in").text),
            },
        )
        elapsed = time.monotonic() - started
        # an htmx request (the reception screen's buttons, any form) gets the notice alone,
        # to be shown in place
        fragment = client.post(
            "/clinic/sign-in?lang=ja",
            data={
                "login_id": staff.login_id,
                "password": DEFAULT_PASSWORD,
                "csrf_token": csrf_from(client.get("/clinic/sign-in").text),
            },
            headers={"HX-Request": "true"},
        )
    assert answer.status_code == 503, answer.text[:300]
    assert elapsed < BOUND
    assert answer.headers["Retry-After"] == "5"
    assert "The qualification could not be verified" in answer.text
    assert "Mynaportal" in answer.text
    assert "<html" in answer.text
    assert fragment.status_code == 503
    assert "<html" not in fragment.text
    assert "資格を確認できませんでした" in fragment.text
    assert 'role="alert"' in fragment.text


def test_api_answers_503_service_unavailable_with_retry_after(
    db: Session, db_engine: Engine, clock: FrozenClock
) -> None:
    _device, key = make_paired_device(db, clock=clock)
    db.commit()
    with _client(db_engine, clock) as client:
        assert key.signed_get(client, "/api/v1/devices/me").status_code == 200
        with write_locked(db_engine):
            started = time.monotonic()
            answer = key.signed_post(client, "/api/v1/verifications/challenges", {})
            elapsed = time.monotonic() - started
    assert answer.status_code == 503, answer.text[:300]
    assert elapsed < BOUND
    assert answer.headers["Retry-After"] == "5"
    error = answer.json()["error"]
    assert error["code"] == "service.unavailable"
    assert "しばらく" in error["message"]["ja"] or "秒" in error["message"]["ja"]
    assert error["message"]["en"]
