"""Staff accounts over HTTP: one's own password, management by the institution / insurer /
system administrators (scope, temporary passwords, disable, role change ending sessions), the
passkey second factor and an institution that requires it. Every change is audited."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from onshi.accounts.models import StaffAccount, StaffRole, WebSession
from onshi.app import create_app
from onshi.audit.models import AuditEvent
from onshi.clock import FrozenClock
from tests.factories import (
    DEFAULT_PASSWORD,
    make_institution,
    make_insurer,
    make_staff_account,
)
from tests.integration.web.conftest import FAST_PASSWORDS, web_settings
from tests.integration.web.test_patient_passkeys import ORIGIN, page_csrf
from tests.integration.web.web_helpers import csrf_from, sign_in
from tests.softauthn import SoftAuthenticator, b64url

NEW_PASSWORD = "a brand new passphrase 77"
_TEMP = re.compile(r'<code class="temp-password">([a-z0-9-]+)</code>')


def _actions(db: Session) -> list[str]:
    db.expire_all()
    return list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _post(client: TestClient[Litestar], page: str, path: str, data: dict[str, Any]) -> Any:
    form = client.get(page)
    return client.post(
        path, data={**data, "csrf_token": csrf_from(form.text)}, follow_redirects=False
    )


def _live_sessions(db: Session, account_id: int) -> int:
    db.expire_all()
    return len(
        db.scalars(
            select(WebSession).where(
                WebSession.subject_id == account_id, WebSession.revoked_at.is_(None)
            )
        ).all()
    )


@pytest.fixture
def second_browser(db_engine: Engine, clock: FrozenClock) -> Iterator[TestClient[Litestar]]:
    """Another browser on another app instance over the same database (one app cannot run
    its lifespan twice)."""
    app = create_app(web_settings(db_engine), clock, passwords=FAST_PASSWORDS)
    with TestClient(app) as browser:
        yield browser


def test_change_own_password(
    client: TestClient[Litestar], db: Session, second_browser: TestClient[Litestar]
) -> None:
    staff = make_staff_account(db, StaffRole.DOCTOR)
    db.commit()
    other_browser = second_browser
    sign_in(other_browser, staff.login_id, DEFAULT_PASSWORD)
    sign_in(client, staff.login_id, DEFAULT_PASSWORD)
    assert _live_sessions(db, staff.id) == 2

    wrong = _post(
        client,
        "/clinic/account/password",
        "/clinic/account/password",
        {
            "current_password": "not my password at all",
            "new_password": "short",
            "confirm_password": "different",
        },
    )
    assert wrong.status_code == 422
    assert "現在のパスワードが正しくありません" in wrong.text
    assert "12文字以上" in wrong.text
    assert "一致しません" in wrong.text

    done = _post(
        client,
        "/clinic/account/password",
        "/clinic/account/password",
        {
            "current_password": DEFAULT_PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert done.status_code == 303
    # This browser stays signed in; the other session ended.
    assert client.get("/clinic", follow_redirects=False).status_code == 200
    assert other_browser.get("/clinic", follow_redirects=False).status_code == 303
    assert _live_sessions(db, staff.id) == 1
    client.cookies.clear()
    assert sign_in(client, staff.login_id, DEFAULT_PASSWORD).status_code == 400
    assert sign_in(client, staff.login_id, NEW_PASSWORD).status_code == 303
    actions = _actions(db)
    assert "staff_account.password_change_refused" in actions
    assert "staff_account.password_changed" in actions


def test_institution_admin_creates_staff_who_must_change_the_temporary_password(
    client: TestClient[Litestar], db: Session, second_browser: TestClient[Litestar]
) -> None:
    institution = make_institution(db)
    admin = make_staff_account(
        db, StaffRole.DOCTOR, institution=institution, is_institution_admin=True
    )
    db.commit()
    sign_in(client, admin.login_id, DEFAULT_PASSWORD)
    created = _post(
        client,
        "/clinic/staff",
        "/clinic/staff",
        {"login_id": "new-nurse", "display_name": "新人 受付", "role": "reception"},
    )
    assert created.status_code == 201, created.text
    match = _TEMP.search(created.text)
    assert match is not None
    temporary = match.group(1)
    db.expire_all()
    account = db.scalars(select(StaffAccount).where(StaffAccount.login_id == "new-nurse")).one()
    assert account.institution_id == institution.id
    assert account.must_change_password
    assert temporary not in account.password_hash

    newcomer = second_browser
    assert sign_in(newcomer, "new-nurse", temporary).status_code == 303
    # Every page but the password change is closed.
    blocked = newcomer.get("/clinic/reception", follow_redirects=False)
    assert blocked.status_code == 303
    assert blocked.headers["location"] == "/clinic/account/password"
    page = newcomer.get("/clinic/account/password")
    assert "仮パスワードでサインインしました" in page.text
    changed = newcomer.post(
        "/clinic/account/password",
        data={
            "current_password": temporary,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
            "csrf_token": csrf_from(page.text),
        },
        follow_redirects=False,
    )
    assert changed.status_code == 303
    assert newcomer.get("/clinic/reception", follow_redirects=False).status_code == 200
    assert "staff_account.created" in _actions(db)


def test_scope_admins_only_and_other_institutions_are_404(
    client: TestClient[Litestar], db: Session
) -> None:
    institution = make_institution(db)
    admin = make_staff_account(
        db, StaffRole.PHARMACIST, institution=institution, is_institution_admin=True
    )
    clerk = make_staff_account(db, StaffRole.RECEPTION, institution=institution)
    stranger = make_staff_account(db, StaffRole.RECEPTION, institution=make_institution(db))
    db.commit()
    sign_in(client, clerk.login_id, DEFAULT_PASSWORD)
    assert client.get("/clinic/staff").status_code == 403
    client.cookies.clear()
    sign_in(client, admin.login_id, DEFAULT_PASSWORD)
    listing = client.get("/clinic/staff").text
    assert clerk.login_id in listing
    assert stranger.login_id not in listing
    assert client.get(f"/clinic/staff/{stranger.id}").status_code == 404
    refused = _post(client, "/clinic/staff", f"/clinic/staff/{stranger.id}/disable", {})
    assert refused.status_code == 404
    db.expire_all()
    assert db.get(StaffAccount, stranger.id).active  # type: ignore[union-attr]
    # An administrator role cannot be granted from a clinic.
    bad = _post(
        client,
        "/clinic/staff",
        "/clinic/staff",
        {"login_id": "sneaky", "display_name": "x", "role": "administrator"},
    )
    assert bad.status_code == 422
    assert "この役割・権限は設定できません" in bad.text


def test_disable_and_role_change_end_the_sessions(
    client: TestClient[Litestar], db: Session, second_browser: TestClient[Litestar]
) -> None:
    institution = make_institution(db)
    admin = make_staff_account(
        db, StaffRole.DOCTOR, institution=institution, is_institution_admin=True
    )
    doctor = make_staff_account(
        db, StaffRole.DOCTOR, institution=institution, emergency_permission=True
    )
    db.commit()
    sign_in(client, admin.login_id, DEFAULT_PASSWORD)
    victim = second_browser
    sign_in(victim, doctor.login_id, DEFAULT_PASSWORD)
    assert victim.get("/clinic", follow_redirects=False).status_code == 200
    changed = _post(
        client,
        f"/clinic/staff/{doctor.id}",
        f"/clinic/staff/{doctor.id}",
        {"role": "reception"},
    )
    assert changed.status_code == 200, changed.text
    assert _live_sessions(db, doctor.id) == 0
    assert victim.get("/clinic", follow_redirects=False).status_code == 303
    db.expire_all()
    account = db.get(StaffAccount, doctor.id)
    assert account is not None
    assert account.role is StaffRole.RECEPTION
    assert not account.emergency_permission

    sign_in(victim, doctor.login_id, DEFAULT_PASSWORD)
    disabled = _post(client, f"/clinic/staff/{doctor.id}", f"/clinic/staff/{doctor.id}/disable", {})
    assert disabled.status_code == 200
    assert _live_sessions(db, doctor.id) == 0
    assert victim.get("/clinic", follow_redirects=False).status_code == 303
    assert sign_in(victim, doctor.login_id, DEFAULT_PASSWORD).status_code == 400
    # Nobody locks themself out.
    self_disable = _post(
        client, f"/clinic/staff/{admin.id}", f"/clinic/staff/{admin.id}/disable", {}
    )
    assert self_disable.status_code == 422
    actions = _actions(db)
    assert "staff_account.updated" in actions
    assert "staff_account.disabled" in actions


def test_reset_gives_a_one_time_password_and_ends_sessions(
    client: TestClient[Litestar], db: Session, second_browser: TestClient[Litestar]
) -> None:
    insurer = make_insurer(db)
    admin = make_staff_account(db, StaffRole.INSURER_OPERATOR, insurer=insurer)
    admin.is_insurer_admin = True
    operator = make_staff_account(db, StaffRole.INSURER_OPERATOR, insurer=insurer)
    elsewhere = make_staff_account(db, StaffRole.INSURER_OPERATOR, insurer=make_insurer(db))
    db.commit()
    sign_in(client, admin.login_id, DEFAULT_PASSWORD, audience="insurer")
    assert elsewhere.login_id not in client.get("/insurer/staff").text
    victim = second_browser
    sign_in(victim, operator.login_id, DEFAULT_PASSWORD, audience="insurer")
    reset = _post(
        client, f"/insurer/staff/{operator.id}", f"/insurer/staff/{operator.id}/reset", {}
    )
    assert reset.status_code == 200
    match = _TEMP.search(reset.text)
    assert match is not None
    assert victim.get("/insurer", follow_redirects=False).status_code == 303
    client.cookies.clear()
    assert sign_in(client, operator.login_id, DEFAULT_PASSWORD, "insurer").status_code == 400
    assert sign_in(client, operator.login_id, match.group(1), "insurer").status_code == 303
    assert client.get("/insurer", follow_redirects=False).headers["location"] == (
        "/insurer/account/password"
    )
    assert "staff_account.password_reset" in _actions(db)


def test_administrators_manage_administrators_only(
    client: TestClient[Litestar], db: Session
) -> None:
    admin = make_staff_account(db, StaffRole.ADMINISTRATOR)
    other_admin = make_staff_account(db, StaffRole.ADMINISTRATOR)
    clerk = make_staff_account(db, StaffRole.RECEPTION)
    db.commit()
    sign_in(client, admin.login_id, DEFAULT_PASSWORD, audience="admin")
    listing = client.get("/admin/staff").text
    assert other_admin.login_id in listing
    assert clerk.login_id not in listing
    assert client.get(f"/admin/staff/{clerk.id}").status_code == 404
    created = _post(
        client,
        "/admin/staff",
        "/admin/staff",
        {"login_id": "ops-two", "display_name": "運営 二", "role": "administrator"},
    )
    assert created.status_code == 201


def _register_passkey(client: TestClient[Litestar], auth: SoftAuthenticator) -> Any:
    page = client.get("/clinic/account/passkeys")
    headers = {"X-CSRF-Token": page_csrf(page.text)}
    options = client.post("/clinic/account/passkeys/options", json={}, headers=headers)
    assert options.status_code == 200, options.text
    return client.post(
        "/clinic/account/passkeys/verify",
        json={"credential": auth.create(options.json()), "nickname": "受付PC"},
        headers=headers,
    )


def test_passkey_second_factor(client: TestClient[Litestar], db: Session) -> None:
    staff = make_staff_account(db, StaffRole.DOCTOR)
    db.commit()
    auth = SoftAuthenticator(origin=ORIGIN)
    sign_in(client, staff.login_id, DEFAULT_PASSWORD)
    added = _register_passkey(client, auth)
    assert added.status_code == 200, added.text
    assert added.json()["redirect"] == "/clinic/account/passkeys"

    client.cookies.clear()
    assert sign_in(client, staff.login_id, DEFAULT_PASSWORD).status_code == 303
    # The password alone opens nothing but the passkey step.
    pending = client.get("/clinic/reception", follow_redirects=False)
    assert pending.headers["location"] == "/clinic/account/second-factor"
    page = client.get("/clinic/account/second-factor")
    headers = {"X-CSRF-Token": page_csrf(page.text)}

    options = client.post("/clinic/account/second-factor/options", json={}, headers=headers)
    forged = {**options.json(), "challenge": b64url(b"not the challenge we were given!")}
    refused = client.post(
        "/clinic/account/second-factor/verify",
        json={"credential": auth.get(forged)},
        headers=headers,
    )
    assert refused.status_code == 400
    assert client.get("/clinic", follow_redirects=False).status_code == 303

    options = client.post("/clinic/account/second-factor/options", json={}, headers=headers)
    passed = client.post(
        "/clinic/account/second-factor/verify",
        json={"credential": auth.get(options.json())},
        headers=headers,
    )
    assert passed.status_code == 200, passed.text
    assert passed.json()["redirect"] == "/clinic"
    assert client.get("/clinic", follow_redirects=False).status_code == 200
    actions = _actions(db)
    assert "staff_passkey.added" in actions
    assert "staff.second_factor_failed" in actions
    assert "staff.second_factor_passed" in actions


def test_institution_requires_two_factors(
    client: TestClient[Litestar], db: Session, second_browser: TestClient[Litestar]
) -> None:
    institution = make_institution(db)
    admin = make_staff_account(
        db, StaffRole.DOCTOR, institution=institution, is_institution_admin=True
    )
    clerk = make_staff_account(db, StaffRole.RECEPTION, institution=institution)
    db.commit()
    sign_in(client, admin.login_id, DEFAULT_PASSWORD)
    assert (
        _post(
            client, "/clinic/staff", "/clinic/staff/second-factor", {"required": "true"}
        ).status_code
        == 303
    )
    db.expire_all()
    assert institution.require_staff_second_factor
    desk = second_browser
    sign_in(desk, clerk.login_id, DEFAULT_PASSWORD)
    blocked = desk.get("/clinic/reception", follow_redirects=False)
    assert blocked.headers["location"] == "/clinic/account/passkeys"
    assert "パスキーを登録してください" in desk.get("/clinic/account/passkeys").text
    added = _register_passkey(desk, SoftAuthenticator(origin=ORIGIN))
    assert added.status_code == 200, added.text
    assert desk.get("/clinic/reception", follow_redirects=False).status_code == 200
    assert "institution.staff_second_factor_required" in _actions(db)
