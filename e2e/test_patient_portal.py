"""A patient enrols with a one-time link and a passkey (Chromium's virtual authenticator), lands
on /me at 360 px, signs out and signs in again with the same passkey."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from e2e.harness import OnshiServer
from e2e.helpers import VirtualAuthenticator, assert_accessible
from onshi.db.engine import make_engine
from onshi.db.registry import load_all_models
from onshi.seeding.accounts import demo_patient

pytestmark = pytest.mark.e2e


def _demo_person(server: OnshiServer) -> tuple[int, list[str]]:
    """The seeded demo patient and the names of the insurers of their qualifications."""
    engine = make_engine(server.database_url)
    try:
        with engine.connect() as connection:
            patient = demo_patient(connection)
            assert patient is not None, "the seeded database has no demo patient"
            tables = load_all_models().tables
            quals, insurers = tables["qualifications"], tables["insurers"]
            links = tables["member_links"]
            names = list(
                connection.execute(
                    select(insurers.c.name)
                    .join(quals, quals.c.insurer_id == insurers.c.id)
                    .join(links, links.c.qualification_id == quals.c.id)
                    .where(links.c.person_id == patient[0], links.c.ended_at.is_(None))
                ).scalars()
            )
    finally:
        engine.dispose()
    return patient[0], names


def test_enrol_with_a_passkey_then_sign_in_again(
    onshi_server: OnshiServer, mobile_page: Page
) -> None:
    page = mobile_page
    person_id, insurer_names = _demo_person(onshi_server)
    output = onshi_server.cli("patient-enrolment-code", "--person-id", str(person_id))
    match = re.search(r"(http://\S+/me/enrol\?code=\S+)", output)
    assert match is not None, output
    url = match.group(1)
    assert url.startswith(onshi_server.origin)

    authenticator = VirtualAuthenticator.attach(page)
    try:
        page.goto(url)
        expect(page.get_by_role("heading", level=1)).to_have_text("利用登録（パスキーの作成）")
        assert_accessible(page)
        page.get_by_role("button", name="パスキーを作成して登録する").click()
        page.wait_for_url(f"{onshi_server.origin}/me")
        assert len(authenticator.credentials()) == 1

        # The landing page at 360 px: qualification section, nothing wider than the screen.
        expect(page.get_by_role("heading", name="健康保険証情報")).to_be_visible()
        history = page.locator("section", has=page.get_by_role("heading", name="健康保険証情報"))
        if insurer_names:
            expect(history).to_contain_text(insurer_names[0])
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"page is {width}px wide at a 360px viewport"
        assert_accessible(page)

        # The link worked once.
        page.goto(url)
        expect(page.get_by_role("alert")).to_contain_text("すでに使用されています")

        # Sign out, then sign in with the same passkey.
        page.goto("/me")
        page.get_by_role("button", name="サインアウト").click()
        page.goto("/me/sign-in")
        expect(page.get_by_role("heading", level=1)).to_contain_text("サインイン")
        assert_accessible(page)
        page.get_by_role("button", name="パスキーでサインイン").click()
        page.wait_for_url(f"{onshi_server.origin}/me")
        expect(page.get_by_role("heading", name="健康保険証情報")).to_be_visible()

        # English switch and one record page.
        page.get_by_role("link", name="English").click()
        expect(page.get_by_role("heading", name="Health insurance")).to_be_visible()
        page.goto("/me/health-checks")
        expect(page.get_by_role("heading", level=1)).to_have_text("Health checks")
        assert_accessible(page)
    finally:
        authenticator.remove()
