"""The reception screen (受付): cards rendered by the server, institution scoping, roles, and the
live stream end to end over HTTP (uvicorn on loopback) on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from onshi.accounts.models import StaffRole
from onshi.app import create_app
from onshi.clock import FrozenClock
from onshi.consent.models import ConsentKind, ConsentValue
from onshi.db.engine import make_engine, make_session_factory
from onshi.db.migrate import upgrade
from onshi.institutions.models import Institution
from onshi.qualification.links import Actor, hold_link
from onshi.qualification.models import (
    CopaymentRatio,
    LimitCategory,
    LimitCertification,
    LimitClass,
    LinkActor,
    Qualification,
    SpecificDisease,
    SpecificDiseaseCertificate,
)
from onshi.verification.models import InstitutionPatientNumber, ResultCode, VerificationMethod
from onshi.web.broker import PostgresBroker
from onshi.web.live import announce_verification
from tests.factories import (
    DEFAULT_PASSWORD,
    make_consent,
    make_institution,
    make_person,
    make_qualification,
    make_staff_account,
    make_verification_event,
)
from tests.integration.conftest import POSTGRES_ENV, _PostgresScratch
from tests.integration.web.conftest import FAST_PASSWORDS, web_settings
from tests.integration.web.live_helpers import SseReader, live_server, signed_in_client
from tests.integration.web.web_helpers import sign_in

NOW = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)  # FrozenClock: 09:00 JST


def _checked_event(db: Session, institution: Institution, family_name: str = "山田") -> int:
    person = make_person(db, family_name=family_name, given_name="太郎")
    qualification = make_qualification(db, person=person, symbol="5678", number="901234")
    event = make_verification_event(
        db,
        institution=institution,
        qualification=qualification,
        method=VerificationMethod.CARD_FACE,
    )
    return event.id


def test_page_shows_the_cards_a_clerk_needs(client: TestClient[Litestar], db: Session) -> None:
    institution = make_institution(db, name="オン資受付診療所")
    other = make_institution(db)
    person = make_person(
        db,
        family_name="山田",
        given_name="花子",
        family_name_kana="ヤマダ",
        given_name_kana="ハナコ",
        birth_date=date(1950, 5, 6),
    )
    qualification = make_qualification(
        db, person=person, symbol="記号12", number="3456", copayment_ratio=CopaymentRatio.TEN
    )
    db.add_all(
        [
            LimitCertification(
                qualification_id=qualification.id,
                category=LimitCategory.C01,
                class_code=LimitClass.A03,
                valid_from=date(2026, 1, 1),
                valid_to=None,
            ),
            SpecificDiseaseCertificate(
                qualification_id=qualification.id,
                disease=SpecificDisease.DIALYSIS,
                monthly_limit_yen=10000,
                valid_from=date(2025, 1, 1),
                valid_to=None,
            ),
            InstitutionPatientNumber(
                institution_id=institution.id, person_id=person.id, number="P-0042", created_at=NOW
            ),
        ]
    )
    event = make_verification_event(
        db, institution=institution, qualification=qualification, method=VerificationMethod.CARD_PIN
    )
    for kind, value, expires in (
        (ConsentKind.DRUG, ConsentValue.GIVEN, NOW + timedelta(hours=23, minutes=30)),
        (ConsentKind.CLINICAL, ConsentValue.NOT_GIVEN, None),
        (ConsentKind.HEALTH_CHECK, ConsentValue.GIVEN, NOW - timedelta(minutes=1)),
        (ConsentKind.LIMIT_INFO, ConsentValue.GIVEN, NOW + timedelta(hours=24)),
    ):
        make_consent(
            db,
            person=person,
            institution=institution,
            kind=kind,
            value=value,
            expires_at=expires,
            verification_event_id=event.id,
        )
    make_verification_event(
        db,
        institution=institution,
        qualification=None,
        person_id=None,
        result_code=int(ResultCode.NOT_FOUND),
        method=VerificationMethod.SYMBOL_NUMBER,
        occurred_at=NOW - timedelta(minutes=3),
    )
    _checked_event(db, other, family_name="他院")
    staff = make_staff_account(db, StaffRole.RECEPTION, institution=institution)
    db.commit()

    sign_in(client, staff.login_id, DEFAULT_PASSWORD)
    page = client.get("/clinic/reception")
    assert page.status_code == 200
    html = page.text
    assert "オン資受付診療所" in html
    assert f'id="verification-{event.id}"' in html
    assert 'data-reception-stream="/clinic/reception/stream?after=' in html
    assert '<script src="/static/js/reception.js" defer></script>' in html
    for text in (
        "有効",
        "資格情報なし",
        "山田\u3000花子",
        "ヤマダ\u3000ハナコ",
        "1950-05-06",
        qualification.number,
        "記号12",
        "1割",
        "本人",
        "ウ",  # 限度額 適用区分 A03, shown because the 限度額情報 consent was given
        "人工透析を要する慢性腎不全",
        "P-0042",
        "暗証番号",
        "薬剤: 同意あり（残り23時間30分）",
        "診療: 同意なし",
        "特定健診: 期限切れ",
    ):
        assert text in html, text
    assert "他院" not in html  # another institution's check
    # Newest (last recorded) first: the 記号番号 check came after the card check.
    assert html.index("資格情報なし") < html.index(f'id="verification-{event.id}"')

    fragment = client.get("/clinic/reception", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="reception-board"')
    assert "<html" not in fragment.text

    english = client.get("/clinic/reception?lang=en").text
    assert "Medicines: given (23 h 30 min left)" in english
    assert "No qualification found" in english


def test_limit_class_needs_the_limit_consent(client: TestClient[Litestar], db: Session) -> None:
    institution = make_institution(db)
    qualification = make_qualification(db)
    db.add(
        LimitCertification(
            qualification_id=qualification.id,
            category=LimitCategory.C01,
            class_code=LimitClass.B01,
            valid_from=date(2026, 1, 1),
            valid_to=None,
        )
    )
    make_verification_event(db, institution=institution, qualification=qualification)
    staff = make_staff_account(db, StaffRole.DOCTOR, institution=institution)
    db.commit()
    sign_in(client, staff.login_id, DEFAULT_PASSWORD)
    html = client.get("/clinic/reception").text
    assert "現役並みⅢ" not in html
    assert "限度額適用区分" not in html


def test_only_clinic_staff(client: TestClient[Litestar], db: Session) -> None:
    operator = make_staff_account(db, StaffRole.INSURER_OPERATOR)
    db.commit()
    anonymous = client.get("/clinic/reception/stream", follow_redirects=False)
    assert anonymous.status_code in (302, 303, 401)
    sign_in(client, operator.login_id, DEFAULT_PASSWORD, audience="insurer")
    assert client.get("/clinic/reception").status_code == 403
    assert client.get("/clinic/reception/stream").status_code == 403


def test_landing_links_the_reception_screen(client: TestClient[Litestar], db: Session) -> None:
    staff = make_staff_account(db, StaffRole.RECEPTION)
    db.commit()
    sign_in(client, staff.login_id, DEFAULT_PASSWORD)
    html = client.get("/clinic").text
    assert 'href="/clinic/reception"' in html
    assert 'aria-current="page">受付<' in client.get("/clinic/reception").text


def test_invalid_results_use_the_terminal_wording(
    client: TestClient[Litestar], db: Session
) -> None:
    """The verification rules: 「資格（無効）」 for 2 and 3 (also with a newer qualification),
    「資格情報なし」 for 4, on the reception cards and in the landing page's recent checks."""
    institution = make_institution(db)
    for code in (ResultCode.INVALID, ResultCode.INVALID_NEWER_EXISTS, ResultCode.NOT_FOUND):
        make_verification_event(
            db,
            institution=institution,
            qualification=None,
            person_id=None,
            result_code=int(code),
            method=VerificationMethod.SYMBOL_NUMBER,
        )
    staff = make_staff_account(db, StaffRole.RECEPTION, institution=institution)
    db.commit()
    sign_in(client, staff.login_id, DEFAULT_PASSWORD)
    reception = client.get("/clinic/reception").text
    landing = client.get("/clinic").text
    for html, opening in (
        (reception, 'class="reception-card__verdict" id="verification-'),
        (landing, 'class="badge badge--result-'),
    ):
        shown = [part.split(">", 1)[1].split("<", 1)[0] for part in html.split(opening)[1:]]
        assert sorted(shown) == ["資格情報なし", "資格（無効）", "資格（無効）"], shown
        assert "新しい資格あり" not in html


# --- live stream over real HTTP -------------------------------------------------------------


@pytest.fixture
def live_app(db_engine: Engine, clock: FrozenClock) -> Litestar:
    return create_app(web_settings(db_engine), clock, passwords=FAST_PASSWORDS)


@pytest.fixture
def base_url(live_app: Litestar) -> Iterator[str]:
    with live_server(live_app) as url:
        yield url


def test_stream_pushes_committed_results_of_this_institution_only(
    live_app: Litestar, base_url: str, db: Session
) -> None:
    ours, theirs = make_institution(db), make_institution(db)
    clerk = make_staff_account(db, StaffRole.RECEPTION, institution=ours)
    other_clerk = make_staff_account(db, StaffRole.RECEPTION, institution=theirs)
    db.commit()
    with (
        signed_in_client(base_url, clerk.login_id, DEFAULT_PASSWORD) as client,
        signed_in_client(base_url, other_clerk.login_id, DEFAULT_PASSWORD) as other_client,
    ):
        stream = SseReader(client, "/clinic/reception/stream")
        other_stream = SseReader(other_client, "/clinic/reception/stream")
        try:
            assert stream.status == 200
            assert stream.headers is not None
            assert stream.headers["content-type"].startswith("text/event-stream")
            assert stream.headers["cache-control"] == "no-store"

            # Rolled back: never announced.
            _checked_event(db, ours, family_name="取消")
            announce_verification(db, live_app.state, ours.id, 10_000)
            db.rollback()

            event_id = _checked_event(db, ours, family_name="鈴木")
            announce_verification(db, live_app.state, ours.id, event_id)
            stream.nothing_within(0.3)  # not before the commit
            db.commit()

            card = stream.next()
            assert card.id == str(event_id)
            assert f'id="verification-{event_id}"' in card.data
            assert "鈴木\u3000太郎" in card.data
            assert "有効" in card.data
            assert "顔認証" in card.data
            assert "取消" not in card.data

            # The other institution's screen got nothing of ours; its own results do arrive.
            their_event = _checked_event(db, theirs, family_name="田中")
            announce_verification(db, live_app.state, theirs.id, their_event)
            db.commit()
            theirs_card = other_stream.next()
            assert "田中" in theirs_card.data
            assert "鈴木" not in theirs_card.data
            stream.nothing_within(0.5)
        finally:
            stream.close()
            other_stream.close()


def test_reconnect_replays_missed_results_since_last_event_id(
    live_app: Litestar, base_url: str, db: Session
) -> None:
    ours, theirs = make_institution(db), make_institution(db)
    clerk = make_staff_account(db, StaffRole.RECEPTION, institution=ours)
    first = _checked_event(db, ours, family_name="一番")
    _checked_event(db, theirs, family_name="他院")
    second = _checked_event(db, ours, family_name="二番")
    third = _checked_event(db, ours, family_name="三番")
    db.commit()
    with signed_in_client(base_url, clerk.login_id, DEFAULT_PASSWORD) as client:
        stream = SseReader(client, "/clinic/reception/stream", {"Last-Event-ID": str(first)})
        try:
            replayed = [stream.next(), stream.next()]
            assert [card.id for card in replayed] == [str(third), str(third)]
            assert "二番" in replayed[0].data  # oldest first: the screen stacks newest on top
            assert "三番" in replayed[1].data
            assert f'id="verification-{second}"' in replayed[0].data
            stream.nothing_within(0.5)  # nothing of the other institution, nothing twice
        finally:
            stream.close()


@pytest.fixture
def postgres_engine(_postgres_scratch: _PostgresScratch | None) -> Iterator[Engine]:
    """A migrated PostgreSQL database of its own (only PostgreSQL has LISTEN/NOTIFY)."""
    assert _postgres_scratch is not None
    url = _postgres_scratch.create(f"live_{secrets.token_hex(3)}")
    upgrade(url)
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.mark.skipif(
    not os.environ.get(POSTGRES_ENV), reason=f"PostgreSQL tests need {POSTGRES_ENV}"
)
def test_two_app_instances_share_results_through_postgresql(
    postgres_engine: Engine, clock: FrozenClock
) -> None:
    """Two workers (two apps, each with its own LISTEN connection): a verification committed
    through worker A reaches a reception screen connected to worker B, on commit only."""
    worker_a = create_app(web_settings(postgres_engine), clock, passwords=FAST_PASSWORDS)
    worker_b = create_app(web_settings(postgres_engine), clock, passwords=FAST_PASSWORDS)
    assert isinstance(worker_a.state.live, PostgresBroker)
    assert isinstance(worker_b.state.live, PostgresBroker)
    factory = make_session_factory(postgres_engine)
    with factory() as db:
        institution = make_institution(db)
        clerk = make_staff_account(db, StaffRole.RECEPTION, institution=institution)
        db.commit()
        with (
            live_server(worker_a),
            live_server(worker_b) as url_b,
            signed_in_client(url_b, clerk.login_id, DEFAULT_PASSWORD) as client,
        ):
            stream = SseReader(client, "/clinic/reception/stream")
            try:
                _checked_event(db, institution, family_name="取消")
                announce_verification(db, worker_a.state, institution.id, 10_000)
                db.rollback()  # a rolled-back NOTIFY is never delivered

                event_id = _checked_event(db, institution, family_name="別ワーカー")
                announce_verification(db, worker_a.state, institution.id, event_id)
                stream.nothing_within(0.3)  # NOTIFY is delivered on commit, not before
                db.commit()
                card = stream.next()
                assert card.id == str(event_id)
                assert "別ワーカー\u3000太郎" in card.data
                assert "取消" not in card.data
            finally:
                stream.close()


def test_a_link_held_after_the_check_hides_the_members_details(
    client: TestClient[Litestar], db: Session, clock: FrozenClock
) -> None:
    institution = make_institution(db)
    event_id = _checked_event(db, institution, family_name="保留")
    staff = make_staff_account(db, StaffRole.RECEPTION, institution=institution)
    db.commit()
    sign_in(client, staff.login_id, DEFAULT_PASSWORD)
    assert "901234" in client.get("/clinic/reception").text

    member = db.scalars(select(Qualification).where(Qualification.number == "901234")).one()
    hold_link(db, clock, member=member, reason_code="reported", reason="申出",
              actor=Actor(LinkActor.STAFF, 1))  # fmt: skip
    db.commit()
    html = client.get("/clinic/reception").text
    assert "901234" not in html  # shown nowhere once held
    assert f'id="verification-{event_id}"' in html  # the check itself is still listed
