"""One public origin: the enrolment link, the staff links and passkeys all name the same one; a
page opened on another address says which address works; a replaced link says so."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.orm import Session

from onshi.accounts.enrolment import issue_enrolment_code
from onshi.accounts.passkeys import passkey_origin
from onshi.clock import FrozenClock
from onshi.seeding.commands import demo_patient_instructions
from onshi.settings import Settings, canonical_public_origin
from tests.factories import make_person
from tests.integration.web.test_patient_passkeys import ORIGIN


def test_one_origin_for_links_and_passkeys() -> None:
    settings = Settings.from_env(
        {
            "ONSHI_ENV": "test",
            "ONSHI_SECRET_KEY": "s" * 40,
            "ONSHI_MY_NUMBER_KEY": "m" * 40,
            "ONSHI_PORT": "8123",
        }
    )
    assert settings.public_origin == "http://localhost:8123"
    assert passkey_origin(settings.public_origin, settings.environment) == settings.public_origin
    explicit = settings.with_(public_origin="http://127.0.0.1:9000/")
    assert explicit.public_origin == "http://localhost:9000"
    assert canonical_public_origin("http://127.0.0.1:8000", "production") == (
        "http://127.0.0.1:8000"
    )


def test_demo_instructions_use_the_staff_origin(db: Session) -> None:
    settings = Settings(
        environment="test",
        database_url=db.get_bind().url.render_as_string(hide_password=False),
        secret_key="s" * 40,
        my_number_key="m" * 40,
        public_origin="http://127.0.0.1:8000",
    )
    person = make_person(db)
    db.commit()
    lines = demo_patient_instructions(settings, person.id)
    urls = [word for line in lines for word in line.split() if word.startswith("http")]
    assert urls
    assert all(url.startswith("http://localhost:8000/") for url in urls), urls


def test_page_on_another_address_names_the_public_origin(
    client: TestClient[Litestar], db: Session, clock: FrozenClock
) -> None:
    page = client.get("/me/sign-in", headers={"host": "127.0.0.1:8000"})
    assert page.status_code == 200
    assert f"{ORIGIN}/me/sign-in" in page.text
    assert 'id="other-origin"' in page.text
    same = client.get("/me/sign-in", headers={"host": "localhost:8000"})
    assert 'id="other-origin"' not in same.text


def test_replaced_link_says_it_was_replaced(
    client: TestClient[Litestar], db: Session, clock: FrozenClock
) -> None:
    person = make_person(db)
    first = issue_enrolment_code(db, clock, person_id=person.id)
    issue_enrolment_code(db, clock, person_id=person.id)
    db.commit()
    page = client.get("/me/enrol", params={"code": first.code})
    assert page.status_code == 400
    assert "新しいリンクの発行により無効になりました" in page.text
    assert "有効期限" not in page.text
