"""Two concurrent submissions of one challenge, each in its own session and thread: exactly one
wins (the conditional UPDATE … WHERE used_at IS NULL), on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from onshi.clock import FrozenClock
from onshi.devices.models import ReaderMode
from onshi.pki import TrustStore
from onshi.verification.models import VerificationEvent
from onshi.verification.services import Outcome, submit_card_verification
from tests.integration.verification.conftest import SEED_RULES, IssueCard, Reader
from tests.integration.verification.test_submissions import _linked


def test_two_concurrent_submissions_of_one_challenge_exactly_one_wins(  # noqa: PLR0917 - pytest fixtures
    db: Session,
    db_session_factory: sessionmaker[Session],
    reader: Reader,
    issue_card: IssueCard,
    trust: TrustStore,
    clock: FrozenClock,
) -> None:
    _person, _q, card = _linked(reader, issue_card)
    issued = reader.challenge()
    first = reader.pin_body(card, challenge=issued)
    second = {**first, "consents": {**first["consents"], "surgery": True}}
    device_id, institution_id = reader.device.id, reader.institution.id
    db.commit()

    barrier = threading.Barrier(2)
    outcomes: list[Outcome] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def submit(body: dict[str, Any]) -> None:
        session = db_session_factory()
        try:
            barrier.wait(timeout=10)
            outcome = submit_card_verification(
                session,
                clock,
                trust,
                SEED_RULES,
                device_id=device_id,
                institution_id=institution_id,
                device_mode=ReaderMode.UNATTENDED,
                body=body,
            )
            session.commit()
            with lock:
                outcomes.append(outcome)
        except BaseException as exc:  # reported below
            session.rollback()
            failures.append(exc)
        finally:
            session.close()

    threads = [threading.Thread(target=submit, args=(body,)) for body in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    assert sorted(outcome.status_code for outcome in outcomes) == [200, 409]
    assert [o.error_code for o in outcomes if not o.ok] == ["challenge.used"]
    with db_session_factory() as check:
        results = check.scalars(select(VerificationEvent.result_code)).all()
        assert sorted(results, key=lambda code: code or 0) == [None, 1]
        assert check.scalar(select(func.count(VerificationEvent.id))) == 2
