"""目視確認 on the reception screen: a visual check waiting for staff arrives on the live stream
with 確認 / 却下 buttons; confirming it from the screen (CSRF form) replaces it with the result
card on every open screen of the institution; rejecting it records the rejection."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from litestar import Litestar
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from onshi.accounts.models import StaffRole
from onshi.app import create_app
from onshi.clock import FrozenClock
from onshi.pki import TrustStore
from onshi.verification.models import SubmissionStatus, VerificationSubmission
from onshi.web.live import announce_pending_check
from tests.factories import DEFAULT_PASSWORD, make_staff_account
from tests.integration.verification.conftest import IssueCard, Reader
from tests.integration.verification.test_submissions import _linked, _submit
from tests.integration.web.conftest import FAST_PASSWORDS, web_settings
from tests.integration.web.live_helpers import SseReader, live_server, signed_in_client

_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


@pytest.fixture
def live_app(db_engine: Engine, clock: FrozenClock) -> Litestar:
    return create_app(web_settings(db_engine), clock, passwords=FAST_PASSWORDS)


@pytest.fixture
def base_url(live_app: Litestar) -> Iterator[str]:
    with live_server(live_app) as url:
        yield url


def _pending(
    db: Session, live_app: Litestar, reader: Reader, issue_card: IssueCard, trust: TrustStore
) -> str:
    _person, _qualification, card = _linked(reader, issue_card)
    outcome = _submit(reader, trust, reader.visual_body(card))
    assert outcome.status_code == 202
    assert outcome.submission_id is not None
    announce_pending_check(db, live_app.state, reader.institution.id, outcome.submission_id)
    db.commit()
    verification_id: str = outcome.body["verification_id"]
    return verification_id


def test_confirm_from_the_screen_goes_live(  # noqa: PLR0917 - pytest fixtures
    db: Session,
    live_app: Litestar,
    base_url: str,
    reader: Reader,
    issue_card: IssueCard,
    trust: TrustStore,
) -> None:
    clerk = make_staff_account(db, StaffRole.RECEPTION, institution=reader.institution)
    db.commit()
    with signed_in_client(base_url, clerk.login_id, DEFAULT_PASSWORD) as client:
        stream = SseReader(client, "/clinic/reception/stream")
        try:
            verification_id = _pending(db, live_app, reader, issue_card, trust)
            pending = stream.next("pending")
            assert f'id="pending-{verification_id}"' in pending.data
            assert "目視確認待ち" in pending.data
            assert f"/clinic/reception/visual/{verification_id}/confirm" in pending.data
            assert pending.id is None  # pending cards do not move the replay cursor

            page = client.get("/clinic/reception").text
            assert f'id="pending-{verification_id}"' in page
            token = _CSRF.search(page)
            assert token is not None
            no_token = client.post(f"/clinic/reception/visual/{verification_id}/confirm")
            assert no_token.status_code == 403
            confirmed = client.post(
                f"/clinic/reception/visual/{verification_id}/confirm",
                data={"csrf_token": token.group(1)},
            )
            assert confirmed.status_code == 303
            assert confirmed.headers["location"] == "/clinic/reception"

            settled = stream.next("pending")
            assert 'data-remove="true"' in settled.data
            card = stream.next("verification")
            assert f'data-replaces="pending-{verification_id}"' in card.data
            assert "有効" in card.data
            assert "目視" in card.data

            after = client.get("/clinic/reception").text
            assert f'id="pending-{verification_id}"' not in after
            again = client.post(
                f"/clinic/reception/visual/{verification_id}/confirm",
                data={"csrf_token": token.group(1)},
            )
            assert again.status_code == 409
            assert "すでに処理済み" in again.text
        finally:
            stream.close()


def test_reject_from_the_screen(  # noqa: PLR0917 - pytest fixtures
    db: Session,
    live_app: Litestar,
    base_url: str,
    reader: Reader,
    issue_card: IssueCard,
    trust: TrustStore,
) -> None:
    clerk = make_staff_account(db, StaffRole.RECEPTION, institution=reader.institution)
    db.commit()
    verification_id = _pending(db, live_app, reader, issue_card, trust)
    with signed_in_client(base_url, clerk.login_id, DEFAULT_PASSWORD) as client:
        page = client.get("/clinic/reception").text
        token = _CSRF.search(page)
        assert token is not None
        rejected = client.post(
            f"/clinic/reception/visual/{verification_id}/reject",
            data={"csrf_token": token.group(1)},
        )
        assert rejected.status_code == 303
        after = client.get("/clinic/reception").text
        assert f'id="pending-{verification_id}"' not in after
        assert "受付で本人確認ができませんでした" in after  # the rejection's event card
    db.expire_all()
    submission = db.query(VerificationSubmission).filter_by(public_id=verification_id).one()
    assert submission.status is SubmissionStatus.REJECTED


def test_another_institutions_check_is_not_found(  # noqa: PLR0917 - pytest fixtures
    db: Session,
    live_app: Litestar,
    base_url: str,
    reader: Reader,
    issue_card: IssueCard,
    trust: TrustStore,
) -> None:
    stranger = make_staff_account(db, StaffRole.RECEPTION)
    db.commit()
    verification_id = _pending(db, live_app, reader, issue_card, trust)
    with signed_in_client(base_url, stranger.login_id, DEFAULT_PASSWORD) as client:
        page = client.get("/clinic/reception").text
        assert verification_id not in page
        token = _CSRF.search(page)
        assert token is not None
        answer = client.post(
            f"/clinic/reception/visual/{verification_id}/confirm",
            data={"csrf_token": token.group(1)},
        )
        assert answer.status_code == 404
