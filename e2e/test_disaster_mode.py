"""災害時 mode end to end: the administrator declares Tokyo, a reception clerk and a doctor of the
Tokyo demo hospital find a patient without the card (the doctor gets the viewer link), the
declaration's page lists the views, and after the end the search is refused. Every page passes
the axe check."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Browser, Page, expect

from e2e.harness import OnshiServer
from e2e.helpers import assert_accessible, demo_staff, sign_in, switch_language


def _page_on(browser: Browser, context_args: dict[str, Any], server: OnshiServer) -> Page:
    return browser.new_context(**{**context_args, "base_url": server.origin}).new_page()


def _tokyo_patient(server: OnshiServer) -> dict[str, str]:
    """A Tokyo person with a current, shown member record (what the search can find)."""
    rows = server.query(
        "SELECT p.id, p.family_name, p.given_name, p.family_name_kana, p.given_name_kana,"
        " p.birth_date, p.address FROM persons p"
        " JOIN member_links l ON l.person_id = p.id AND l.ended_at IS NULL"
        " AND l.status IN ('linked', 'linked_confirm')"
        " JOIN qualifications q ON q.id = l.qualification_id"
        " WHERE p.prefecture_code = '13' AND q.lost_on IS NULL AND q.valid_to IS NULL"
        " ORDER BY p.id LIMIT 1"
    )
    assert rows, "the seeded nation has no Tokyo person with a current qualification"
    person_id, family, given, family_kana, given_kana, birth, address = rows[0]
    return {
        "id": str(person_id),
        "name": f"{family}{given}",
        "kana": f"{family_kana} {given_kana}",
        "birth_date": str(birth)[:10],
        "address": str(address),
    }


def _search(page: Page, person: dict[str, str]) -> None:
    page.locator("#disaster-identity-kana_name").fill(person["kana"])
    page.locator("#disaster-identity-birth_date").fill(person["birth_date"])
    page.locator("#disaster-identity-address").fill(person["address"])
    page.locator("form:has(input[name=mode][value=identity]) button[type=submit]").click()
    expect(page.locator("#disaster-results-heading")).to_be_visible()


def _declare(admin: Page) -> str:
    """The administrator declares Tokyo (a refused empty form first); the declaration's URL."""
    sign_in(admin, demo_staff("demo-admin"))
    admin.goto("/admin/disasters")
    expect(admin.locator("h1")).to_have_text("災害時の指定")
    assert_accessible(admin)
    admin.locator("#declare-form button[type=submit]").click()  # nothing chosen: in place
    expect(admin.locator("#declare-form .field__error").first).to_be_visible()
    assert_accessible(admin)
    admin.get_by_label("東京都").check()
    admin.locator("#declare-title").fill("e2e 首都直下地震")
    with admin.expect_navigation():
        admin.locator("#declare-form button[type=submit]").click()
    expect(admin).to_have_url(re.compile(r"/admin/disasters/\d+$"))
    expect(admin.locator("h1")).to_contain_text("e2e 首都直下地震")
    expect(admin.locator("h1 .badge")).to_have_text("実施中")
    assert_accessible(admin)
    return admin.url


def test_declare_search_review_and_end(
    browser: Browser, browser_context_args: dict[str, Any], onshi_server: OnshiServer
) -> None:
    server = onshi_server
    person = _tokyo_patient(server)

    admin = _page_on(browser, browser_context_args, server)
    declaration_url = _declare(admin)

    clerk = _page_on(browser, browser_context_args, server)
    sign_in(clerk, demo_staff("demo-reception"))
    clerk.goto("/clinic/disaster")
    expect(clerk.locator(".disaster-banner")).to_contain_text("e2e 首都直下地震")
    assert_accessible(clerk)
    _search(clerk, person)
    result = clerk.locator(".record-card").filter(has_text=person["birth_date"])
    expect(result.first).to_be_visible()
    expect(clerk.locator("a[href*='/clinic/viewer/']")).to_have_count(0)
    expect(clerk.get_by_text("医師・歯科医師・薬剤師のみ")).to_be_visible()
    assert_accessible(clerk)
    switch_language(clerk, "en")
    expect(clerk.locator("h1")).to_have_text("Disaster-time patient search")
    assert_accessible(clerk)
    clerk.context.close()

    doctor = _page_on(browser, browser_context_args, server)
    sign_in(doctor, demo_staff("demo-doctor"))
    doctor.goto("/clinic/disaster")
    _search(doctor, person)
    link = doctor.locator(f"a[href='/clinic/viewer/{person['id']}/drugs?mode=disaster']")
    expect(link.first).to_be_visible()
    assert_accessible(doctor)

    admin.goto(declaration_url)
    views = admin.locator("#disaster-views-heading")
    expect(views).to_contain_text("（2件）")  # the two qualification views of the searches
    expect(admin.locator("table")).not_to_contain_text(person["name"])
    with admin.expect_navigation():
        admin.locator("form[action$='/end'] button").click()
    expect(admin.locator("h1 .badge")).to_have_text("終了")
    admin.context.close()

    response = doctor.goto("/clinic/disaster")
    assert response is not None
    assert response.status == 403
    expect(doctor.locator("h1")).to_have_text("災害時の検索は使えません")
    assert_accessible(doctor)
    doctor.context.close()
