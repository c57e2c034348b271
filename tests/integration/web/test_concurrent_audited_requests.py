"""Liveness under concurrent audited requests (regression test for a worker hang).

Audited writes used to hold a hash chain's head row lock until their transaction ended. When the
request's commit ran in the same limited thread pool as sync handlers, more concurrent audited
requests than threads in one worker filled the pool with handlers waiting for that lock while the
holder's commit waited for a thread: the worker hung for good (on PostgreSQL the holders sat
"idle in transaction"). See :mod:`onshi.web.transaction`. Entries of the transparency log take
no shared lock now; the test keeps the worker honest about both causes.

Here a real uvicorn server (one worker, in a thread, on loopback) gets more concurrent staff
sign-ins with a wrong password (each one audited) than Litestar's default pool can ever hold
(``min(32, CPUs + 4)`` threads). Every request must be answered within a generous deadline (a
liveness bound, not a performance target), and the log must verify with one new entry per
request, each integrated once. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait

import httpx
import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from onshi.accounts.models import StaffRole
from onshi.app import create_app
from onshi.audit.models import AuditEvent
from onshi.clock import FrozenClock
from tests.factories import DEFAULT_PASSWORD, make_staff_account
from tests.integration.web.conftest import FAST_PASSWORDS, web_settings
from tests.integration.web.live_helpers import live_server
from tests.tlog_helpers import integrate, positions, verify

# More than the largest default executor (32 threads), whatever the machine's CPU count.
CONCURRENT = 48
DEADLINE_SECONDS = 60.0
APP_NAME = "onshi-concurrent-audited-test"
_CSRF_INPUT = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def _app_database_url(db_engine: Engine) -> str:
    """The test database, with the server's PostgreSQL connections labelled so that a hung run
    can release them (see :func:`_release_stuck_server`)."""
    url = db_engine.url
    if db_engine.dialect.name == "postgresql":
        url = url.update_query_dict({"application_name": APP_NAME})
    return url.render_as_string(hide_password=False)


def _wrong_password_sign_in(base_url: str, login_id: str, start: threading.Barrier) -> int:
    """One client: fetch the form (CSRF cookie and token), wait for the others, then post."""
    timeout = httpx.Timeout(10.0, read=DEADLINE_SECONDS + 60)
    with httpx.Client(base_url=base_url, timeout=timeout) as client:
        form = client.get("/clinic/sign-in")
        assert form.status_code == 200
        match = _CSRF_INPUT.search(form.text)
        assert match is not None, "no CSRF field on the sign-in page"
        start.wait(timeout=30)
        answer = client.post(
            "/clinic/sign-in",
            data={"login_id": login_id, "password": "wrong password", "csrf_token": match[1]},
        )
        return answer.status_code


def _server_connections(db_engine: Engine) -> list[str]:
    """The states of the server's PostgreSQL connections (evidence for the failure message)."""
    if db_engine.dialect.name != "postgresql":
        return []
    with db_engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT state, coalesce(wait_event_type, '-') FROM pg_stat_activity "
                "WHERE application_name = :name"
            ),
            {"name": APP_NAME},
        ).all()
    return sorted(f"{state} (wait: {wait})" for state, wait in rows)


def _release_stuck_server(db_engine: Engine, pending: set[Future[int]]) -> None:
    """After a hang, let the server and the clean-up finish. On PostgreSQL end the server's
    connections, again while requests stay unanswered (queued handlers take the freed threads
    and hang the same way): lock holders roll back, waiters fail. On SQLite nothing can be ended
    from outside; waiters give up after the busy timeout (30 s a round), which may outlast this
    wait, and then the server's stop and the ``db`` fixture's clean-up fail too."""
    deadline = time.monotonic() + 180
    while pending and time.monotonic() < deadline:
        if db_engine.dialect.name == "postgresql":
            with db_engine.connect() as connection:
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE application_name = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": APP_NAME},
                )
        _, pending = wait(pending, timeout=1)


def test_more_concurrent_audited_requests_than_threads_all_complete(
    db: Session, db_engine: Engine, clock: FrozenClock
) -> None:
    # A cheap hash: the requests should meet in the database, not queue behind argon2.
    # One wrong password per account (the staff lockout throttles repeated failures of one login).
    password_hash = FAST_PASSWORDS.hash(DEFAULT_PASSWORD)
    clerks = [
        make_staff_account(db, StaffRole.RECEPTION, password_hash=password_hash)
        for _ in range(CONCURRENT)
    ]
    clerk = clerks[0]
    db.commit()
    id_before = db.scalar(select(func.coalesce(func.max(AuditEvent.id), 0)))
    db.rollback()  # end the read: no snapshot or lock held while the server works
    settings = web_settings(
        db_engine,
        database_url=_app_database_url(db_engine),
        # Every attempt is a checked wrong password (400), not a rate-limit answer.
        sign_in_attempts_per_window=CONCURRENT + 10,
        tlog_integrator=False,  # integrated below, with the tests' key
    )
    app = create_app(settings, clock, passwords=FAST_PASSWORDS)

    with live_server(app) as base_url, ThreadPoolExecutor(max_workers=CONCURRENT) as clients:
        start = threading.Barrier(CONCURRENT)
        attempts: list[Future[int]] = [
            clients.submit(_wrong_password_sign_in, base_url, each.login_id, start)
            for each in clerks
        ]
        _, pending = wait(attempts, timeout=DEADLINE_SECONDS)
        if pending:
            connections = _server_connections(db_engine)
            _release_stuck_server(db_engine, pending)
            pytest.fail(
                f"{len(pending)} of {CONCURRENT} concurrent audited requests were not answered "
                f"within {DEADLINE_SECONDS:.0f} s: the worker hung "
                f"(server's PostgreSQL connections: {connections or 'n/a'})"
            )
        statuses = sorted(attempt.result() for attempt in attempts)
        assert statuses == [400] * CONCURRENT

        # The worker is still healthy: a good sign-in (also audited) goes through.
        with httpx.Client(base_url=base_url, timeout=30.0) as client:
            form = client.get("/clinic/sign-in")
            match = _CSRF_INPUT.search(form.text)
            assert match is not None
            answer = client.post(
                "/clinic/sign-in",
                data={
                    "login_id": clerk.login_id,
                    "password": DEFAULT_PASSWORD,
                    "csrf_token": match[1],
                },
            )
            assert answer.status_code == 303, answer.text[:500]

    new_entries = CONCURRENT + 1
    assert integrate(db_engine, clock) >= new_entries
    report = verify(db_engine)
    assert report.ok, report.problems
    at = positions(db)
    new_ids = db.scalars(select(AuditEvent.id).where(AuditEvent.id > id_before)).all()
    assert len(new_ids) == new_entries
    assert len({at[entry_id] for entry_id in new_ids}) == new_entries  # each placed, once
    actions: dict[str, int] = dict(
        db.execute(
            select(AuditEvent.action, func.count())
            .where(AuditEvent.id > id_before)
            .group_by(AuditEvent.action)
        ).all()
    )
    assert actions == {"staff.sign_in_failed": CONCURRENT, "staff.signed_in": 1}
