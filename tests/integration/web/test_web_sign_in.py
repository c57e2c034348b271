"""Staff sign-in, rate limit, session rotation and expiry, CSRF and guards against the real app."""

from __future__ import annotations

from datetime import timedelta

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onshi.accounts.models import SignInAttempt, StaffAccount, StaffRole, WebSession
from onshi.accounts.services import hash_token
from onshi.audit.models import AuditEvent
from onshi.clock import FrozenClock
from tests.factories import DEFAULT_PASSWORD, make_institution, make_staff_account
from tests.integration.web.web_helpers import csrf_from, sign_in

SESSION_COOKIE = "onshi_session"


def _actions(db: Session) -> list[str]:
    db.expire_all()
    return list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_sign_in_lands_on_the_role_page_and_rehashes(
    client: TestClient[Litestar], db: Session
) -> None:
    staff = make_staff_account(db, StaffRole.RECEPTION)
    old_hash = staff.password_hash
    db.commit()

    response = sign_in(client, staff.login_id, DEFAULT_PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == "/clinic"
    token = client.cookies.get(SESSION_COOKIE)
    assert token
    page = client.get("/clinic")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"

    db.expire_all()
    stored = db.get(StaffAccount, staff.id)
    assert stored is not None
    assert stored.last_sign_in_at is not None
    assert stored.password_hash != old_hash  # the app's parameters differ: rehashed
    session = db.scalar(select(WebSession).where(WebSession.token_hash == hash_token(token)))
    assert session is not None
    assert session.subject_id == staff.id
    assert token not in (session.token_hash,)  # only the hash is stored
    assert "staff.signed_in" in _actions(db)


def test_sign_in_follows_next_within_the_audience(
    client: TestClient[Litestar], db: Session
) -> None:
    admin = make_staff_account(db, StaffRole.ADMINISTRATOR)
    db.commit()
    form = client.get("/admin/sign-in?next=/admin")
    assert 'name="next" value="/admin"' in form.text
    response = client.post(
        "/admin/sign-in",
        data={
            "login_id": admin.login_id,
            "password": DEFAULT_PASSWORD,
            "next": "https://evil.example/",
            "csrf_token": csrf_from(form.text),
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/admin"


def test_wrong_password_shows_one_message_and_is_audited(
    client: TestClient[Litestar], db: Session
) -> None:
    staff = make_staff_account(db, StaffRole.DOCTOR)
    db.commit()
    wrong = sign_in(client, staff.login_id, "not the password at all")
    unknown = sign_in(client, "nobody-here", "not the password at all")
    for response in (wrong, unknown):
        assert response.status_code == 400
        assert "ログインIDまたはパスワードが正しくありません" in response.text
    assert client.cookies.get(SESSION_COOKIE) is None
    assert _actions(db).count("staff.sign_in_failed") == 2
    failures = db.scalar(
        select(func.count()).select_from(SignInAttempt).where(SignInAttempt.succeeded.is_(False))
    )
    assert failures == 4  # login key + address key, twice


def test_missing_fields_are_a_clear_400(client: TestClient[Litestar]) -> None:
    form = client.get("/clinic/sign-in?lang=en")
    response = client.post(
        "/clinic/sign-in", data={"login_id": "", "csrf_token": csrf_from(form.text)}
    )
    assert response.status_code == 400
    assert "Enter your login ID and password." in response.text


def test_rate_limit_locks_the_login_then_lifts(
    client: TestClient[Litestar], db: Session, clock: FrozenClock
) -> None:
    staff = make_staff_account(db, StaffRole.PHARMACIST)
    db.commit()
    for _ in range(3):
        assert sign_in(client, staff.login_id, "wrong password 1234").status_code == 400

    locked = sign_in(client, staff.login_id, DEFAULT_PASSWORD)
    assert locked.status_code == 429
    assert 0 < int(locked.headers["retry-after"]) <= 300
    assert "一時的にサインインを停止" in locked.text
    assert client.cookies.get(SESSION_COOKIE) is None
    assert "staff.sign_in_locked" in _actions(db)

    english = client.get("/clinic/sign-in?lang=en")
    locked_en = client.post(
        "/clinic/sign-in",
        data={
            "login_id": staff.login_id,
            "password": DEFAULT_PASSWORD,
            "csrf_token": csrf_from(english.text),
        },
    )
    assert locked_en.status_code == 429
    assert "Please try again after" in locked_en.text

    clock.advance(timedelta(seconds=301))
    assert sign_in(client, staff.login_id, DEFAULT_PASSWORD).status_code == 303


def test_rate_limit_per_address_covers_other_login_ids(
    client: TestClient[Litestar], db: Session
) -> None:
    staff = make_staff_account(db, StaffRole.RECEPTION)
    db.commit()
    for n in range(3):
        sign_in(client, f"guess{n}", "wrong password 1234")
    assert sign_in(client, staff.login_id, DEFAULT_PASSWORD).status_code == 429


def test_session_rotates_on_sign_in_and_the_old_token_is_rejected(
    client: TestClient[Litestar], db: Session
) -> None:
    institution = make_institution(db)
    first = make_staff_account(db, StaffRole.RECEPTION, institution=institution)
    second = make_staff_account(db, StaffRole.DOCTOR, institution=institution)
    db.commit()

    sign_in(client, first.login_id, DEFAULT_PASSWORD)
    old_token = client.cookies.get(SESSION_COOKIE)
    assert old_token
    sign_in(client, second.login_id, DEFAULT_PASSWORD)
    new_token = client.cookies.get(SESSION_COOKIE)
    assert new_token
    assert new_token != old_token

    db.expire_all()
    old = db.scalar(select(WebSession).where(WebSession.token_hash == hash_token(old_token)))
    assert old is not None
    assert old.revoked_at is not None

    client.cookies.set(SESSION_COOKIE, old_token)
    response = client.get("/clinic", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/clinic/sign-in")


def test_sign_out_revokes_the_session(client: TestClient[Litestar], db: Session) -> None:
    staff = make_staff_account(db, StaffRole.INSURER_OPERATOR)
    db.commit()
    sign_in(client, staff.login_id, DEFAULT_PASSWORD, audience="insurer")
    token = client.cookies.get(SESSION_COOKIE)
    assert token
    page = client.get("/insurer")
    response = client.post(
        "/sign-out", data={"csrf_token": csrf_from(page.text)}, follow_redirects=False
    )
    assert response.status_code == 303
    client.cookies.set(SESSION_COOKIE, token)
    assert client.get("/insurer", follow_redirects=False).status_code == 303
    assert "session.signed_out" in _actions(db)


def test_idle_and_absolute_expiry(
    client: TestClient[Litestar], db: Session, clock: FrozenClock
) -> None:
    staff = make_staff_account(db, StaffRole.ADMINISTRATOR)
    db.commit()
    sign_in(client, staff.login_id, DEFAULT_PASSWORD, audience="admin")
    token = client.cookies.get(SESSION_COOKIE)
    assert token
    # Active use keeps the session alive past the idle limit…
    for _ in range(3):
        clock.advance(timedelta(minutes=20))
        assert client.get("/admin").status_code == 200
    # …but not past 30 idle minutes,
    clock.advance(timedelta(minutes=31))
    assert client.get("/admin", follow_redirects=False).status_code == 303

    client.cookies.clear()
    sign_in(client, staff.login_id, DEFAULT_PASSWORD, audience="admin")
    for _ in range(17):  # 8 h 13 min of activity, a request every 29 minutes
        clock.advance(timedelta(minutes=29))
        last = client.get("/admin", follow_redirects=False)
    assert last.status_code == 303  # absolute limit (8 hours) reached


def test_csrf_is_required_and_bound_to_the_session(
    client: TestClient[Litestar], db: Session
) -> None:
    staff = make_staff_account(db, StaffRole.RECEPTION)
    db.commit()
    anonymous_form = client.get("/clinic/sign-in")
    anonymous_token = csrf_from(anonymous_form.text)
    sign_in(client, staff.login_id, DEFAULT_PASSWORD)
    # The token of the anonymous page no longer works once signed in (new session).
    response = client.post("/sign-out", data={"csrf_token": anonymous_token})
    assert response.status_code == 403
    # No token at all.
    assert client.post("/sign-out").status_code == 403
    # htmx sends it as a header (hx-headers on <body>).
    page = client.get("/clinic")
    assert f'"X-CSRF-Token": "{csrf_from(page.text)}"' in page.text
    ok = client.post(
        "/sign-out", headers={"X-CSRF-Token": csrf_from(page.text)}, follow_redirects=False
    )
    assert ok.status_code == 303


def test_guards_deny_other_roles(client: TestClient[Litestar], db: Session) -> None:
    staff = make_staff_account(db, StaffRole.RECEPTION)
    db.commit()
    assert client.get("/admin", follow_redirects=False).status_code == 303
    sign_in(client, staff.login_id, DEFAULT_PASSWORD)
    for path in ("/admin", "/insurer"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 403, path
        assert "権限がありません" in response.text
    assert client.get("/clinic").status_code == 200


def test_inactive_account_cannot_sign_in_and_loses_its_session(
    client: TestClient[Litestar], db: Session
) -> None:
    staff = make_staff_account(db, StaffRole.RECEPTION)
    db.commit()
    sign_in(client, staff.login_id, DEFAULT_PASSWORD)
    staff.active = False
    db.commit()
    assert client.get("/clinic", follow_redirects=False).status_code == 303
    assert sign_in(client, staff.login_id, DEFAULT_PASSWORD).status_code == 400
