"""The web app for the viewer tests (the fixtures of tests/integration/web) and a helper that
signs a staff account in by making its session directly."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.orm import Session

from onshi.accounts.models import StaffAccount, SubjectKind
from onshi.accounts.services import SessionPolicy, create_session
from onshi.clock import Clock
from tests.integration.web.conftest import client, web_app  # noqa: F401  (fixtures)

POLICY = SessionPolicy(hours=8, idle_minutes=30)


def signed_in(
    browser: TestClient[Litestar], db: Session, clock: Clock, account: StaffAccount
) -> TestClient[Litestar]:
    """``browser`` carrying a fresh session of ``account`` (committed, so the app sees it)."""
    issued = create_session(
        db, clock, POLICY, subject_kind=SubjectKind.STAFF, subject_id=account.id
    )
    db.commit()
    browser.cookies.set("onshi_session", issued.token)
    return browser
