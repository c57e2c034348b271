"""The consent-gated viewer, end to end: after a card check with the drug consent at the demo
pharmacy, the pharmacist opens the patient from the list of consented patients and sees the
drug history; a reception clerk is refused; the patient sees the pharmacist's view (role and
the consent's time left) on /me/access-log; 24 hours later (the server's clock moved ahead
with ``ONSHI_CLOCK_OFFSET_SECONDS``, development only) the same pharmacist is refused with the
time the consent expired. Every page passes axe."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.cards import card_check, demo_person, page_on, pairing_code, trusting_server_on
from e2e.harness import OnshiServer
from e2e.helpers import VirtualAuthenticator, assert_accessible, demo_staff, sign_in

CONSENTS = {"health_check": False, "drug": True, "clinical": False, "surgery": False}
A_DAY_AND_FIVE_MINUTES = 24 * 3600 + 300


@pytest.fixture(scope="module")
def viewer_server(
    onshi_server: OnshiServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OnshiServer]:
    data_dir = tmp_path_factory.mktemp("onshi-e2e-viewer")
    with trusting_server_on(onshi_server, data_dir) as server:
        yield server


def _drug_name(server: OnshiServer, person_id: int) -> str | None:
    """The newest drug of the person dispensed in the last 3 years, if the seed gave one."""
    rows = server.query(
        "SELECT d.drug_name FROM drug_records d JOIN member_links l "
        "ON l.qualification_id = d.qualification_id AND l.ended_at IS NULL "
        "AND l.status IN ('linked', 'linked_confirm') "
        "WHERE l.person_id = ? AND d.source = 'claim' "
        "AND d.dispensed_on >= date('now', '-3 years') "
        "ORDER BY d.dispensed_on DESC, d.id DESC LIMIT 1",
        person_id,
    )
    return str(rows[0][0]) if rows else None


def test_pharmacist_views_with_consent_then_refused_a_day_later(
    browser: Browser, browser_context_args: dict[str, Any], viewer_server: OnshiServer
) -> None:
    server = viewer_server
    person = demo_person(server, "demo-pharmacist")

    # The card check at the pharmacy, with the drug consent (its reader paired by the
    # pharmacy's administrator, the demo pharmacist), then the pharmacist's view.
    pharmacist = page_on(browser, browser_context_args, server)
    code = pairing_code(pharmacist, "demo-pharmacist")
    assert card_check(server, code, person, CONSENTS)["result_code"] == 1
    _pharmacist_sees_the_drugs(pharmacist, server, person)

    _clerk_is_refused(page_on(browser, browser_context_args, server), person["person_id"])
    _patient_sees_the_view(page_on(browser, browser_context_args, server), server, person)

    # A day later: the consent (24 hours from the card check) has lapsed.
    server.stop()
    offset = {"ONSHI_CLOCK_OFFSET_SECONDS": str(A_DAY_AND_FIVE_MINUTES)}
    server.extra_env = {**server.extra_env, **offset}
    server.start()
    _pharmacist_is_refused_later(page_on(browser, browser_context_args, server), person)


def _pharmacist_sees_the_drugs(page: Page, server: OnshiServer, person: dict[str, Any]) -> None:
    person_id = person["person_id"]
    page.goto("/clinic/viewer")
    row = page.locator(f'tr[data-person="{person_id}"]')
    expect(row).to_contain_text(person["name"])
    expect(row).to_contain_text("残り23時間")
    assert_accessible(page)
    row.get_by_role("link").click()
    page.wait_for_url(re.compile(rf"/clinic/viewer/{person_id}/drugs$"))
    expect(page.locator("h2").first).to_have_text("薬剤情報")
    expect(page.locator(".viewer-caution")).to_contain_text("お薬手帳")
    expect(page.locator(".viewer-basis")).to_contain_text("閲覧同意あり")
    assert_accessible(page)
    # The page opens on the last 12 months; the whole window (3 years here) is a link away.
    page.get_by_role("link", name=re.compile("すべての期間")).click()
    page.wait_for_url(re.compile(rf"/clinic/viewer/{person_id}/drugs\?period=all$"))
    history = page.locator("#drug-history")
    newest = _drug_name(server, person_id)
    if newest is not None:
        expect(history).to_contain_text(newest)
        expect(history).to_contain_text("請求分・約1〜1.5か月遅れ")
    else:
        expect(history).to_contain_text("該当する薬剤情報はありません")
    assert_accessible(page)
    page.context.close()


def _clerk_is_refused(page: Page, person_id: int) -> None:
    """A reception clerk is refused, with the reason, in both languages."""
    sign_in(page, demo_staff("demo-reception"))
    answer = page.goto(f"/clinic/viewer/{person_id}/drugs")
    assert answer is not None
    assert answer.status == 403
    refusal = page.locator("#viewer-refusal")
    expect(refusal).to_contain_text("医師・歯科医師・薬剤師だけ")
    expect(refusal).to_contain_text("Only doctors, dentists and pharmacists")
    assert_accessible(page)
    page.context.close()


def _patient_sees_the_view(page: Page, server: OnshiServer, person: dict[str, Any]) -> None:
    """The pharmacy, the role, and the consent's time left, on /me/access-log."""
    output = server.cli("patient-enrolment-code", "--person-id", str(person["person_id"]))
    link = re.search(r"(http://\S+/me/enrol\?code=\S+)", output)
    assert link is not None, output
    authenticator = VirtualAuthenticator.attach(page)
    try:
        page.goto(link.group(1))
        page.get_by_role("button", name="パスキーを作成して登録する").click()
        page.wait_for_url(f"{server.origin}/me")
        page.goto("/me/access-log")
        pharmacy = server.query(
            "SELECT i.name FROM institutions i JOIN staff_accounts s ON s.institution_id = i.id "
            "WHERE s.login_id = 'demo-pharmacist'"
        )[0][0]
        view = page.locator("#access-list tbody tr", has_text="薬剤師").first
        expect(view).to_contain_text(str(pharmacy))
        expect(view).to_contain_text("薬剤情報")
        expect(view).to_contain_text("同意に基づく閲覧")
        expect(view).to_contain_text("同意の残り時間 23時間")
        assert_accessible(page)
    finally:
        authenticator.remove()
        page.context.close()


def _pharmacist_is_refused_later(page: Page, person: dict[str, Any]) -> None:
    person_id = person["person_id"]
    sign_in(page, demo_staff("demo-pharmacist"))
    answer = page.goto(f"/clinic/viewer/{person_id}/drugs")
    assert answer is not None
    assert answer.status == 403
    refusal = page.locator("#viewer-refusal")
    expect(refusal).to_contain_text("閲覧同意の有効期限が切れています")
    expect(refusal).to_contain_text(re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d"))
    assert_accessible(page)
    page.goto("/clinic/viewer")
    expect(page.locator(f'tr[data-person="{person_id}"]')).to_have_count(0)
    page.context.close()
