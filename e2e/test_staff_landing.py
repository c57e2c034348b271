"""Each staff audience signs in with its demo account, sees its own landing page filled with the
seeded nation's data, passes the axe check, and switches to English."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from e2e.harness import OnshiServer
from e2e.helpers import assert_accessible, demo_staff, sign_in, switch_language

RECENT_EVENTS_SHOWN = 10


def _number(text: str) -> int:
    match = re.search(r"\d[\d,]*", text)
    assert match, f"no number in {text!r}"
    return int(match.group().replace(",", ""))


def _institution_of(server: OnshiServer, login_id: str) -> tuple[str, str, int]:
    """Name, code and verification-event count of the staff member's institution."""
    rows = server.query(
        "SELECT i.name, i.code, "
        "(SELECT count(*) FROM verification_events v WHERE v.institution_id = i.id) "
        "FROM staff_accounts s JOIN institutions i ON i.id = s.institution_id "
        "WHERE s.login_id = ?",
        login_id,
    )
    assert rows, f"{login_id} is not attached to an institution in the seeded database"
    name, code, events = rows[0]
    return str(name), str(code), int(str(events))


def _check_clinic_landing(
    page: Page, server: OnshiServer, login_id: str, *, qualified: bool
) -> None:
    account = demo_staff(login_id)
    name, code, events = _institution_of(server, login_id)
    assert events > 0, f"the seed gave {login_id}'s institution no verification events"

    sign_in(page, account)

    expect(page).to_have_url(re.compile(r"/clinic/?$"))
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator("h1")).to_have_text(name)
    expect(page.locator(".subtitle")).to_contain_text(code)
    expect(page.locator("#recent-heading")).to_have_text("最近の資格確認")
    rows = page.locator("#recent-events tbody tr")
    expect(rows).to_have_count(min(events, RECENT_EVENTS_SHOWN))
    expect(rows.first.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
    expect(page.get_by_text(account.display_name)).to_be_visible()
    consent_stat = page.get_by_text("閲覧同意が有効な患者")
    expect(consent_stat).to_have_count(1 if qualified else 0)
    assert_accessible(page)

    switch_language(page, "en")

    expect(page.locator("h1")).to_have_text(name)
    expect(page.locator("#recent-heading")).to_have_text("Latest verifications")
    expect(page.get_by_text("Verifications today")).to_be_visible()
    expect(page.locator("#devices-heading")).to_have_text("Card readers")
    expect(rows).to_have_count(min(events, RECENT_EVENTS_SHOWN))
    expect(page.get_by_text("Patients with a valid viewing consent")).to_have_count(
        1 if qualified else 0
    )
    expect(page.locator(".lang-switch a")).to_have_text("日本語")
    assert_accessible(page)


def test_reception_clerk_sees_the_hospital_reception_page(
    page: Page, onshi_server: OnshiServer
) -> None:
    _check_clinic_landing(page, onshi_server, "demo-reception", qualified=False)


def test_doctor_sees_the_hospital_page_with_consents(page: Page, onshi_server: OnshiServer) -> None:
    _check_clinic_landing(page, onshi_server, "demo-doctor", qualified=True)


def test_pharmacist_sees_the_pharmacy_page(page: Page, onshi_server: OnshiServer) -> None:
    _check_clinic_landing(page, onshi_server, "demo-pharmacist", qualified=True)


def test_insurer_operator_sees_the_insurer_page(page: Page, onshi_server: OnshiServer) -> None:
    account = demo_staff("demo-insurer")
    [(insurer_name, number, members)] = onshi_server.query(
        "SELECT ins.name, ins.number, "
        "(SELECT count(*) FROM qualifications q "
        " WHERE q.insurer_id = ins.id AND q.lost_on IS NULL) "
        "FROM staff_accounts s JOIN insurers ins ON ins.id = s.insurer_id WHERE s.login_id = ?",
        account.login_id,
    )
    assert int(str(members)) > 0

    sign_in(page, account)

    expect(page).to_have_url(re.compile(r"/insurer/?$"))
    expect(page.locator("h1")).to_have_text(str(insurer_name))
    expect(page.locator(".subtitle")).to_contain_text(str(number))
    members_value = page.locator(".stat", has=page.locator("#members-heading")).locator(
        ".stat__value"
    )
    assert _number(members_value.inner_text()) > 0
    expect(page.locator("#five-item-heading")).to_have_text("5情報照会の結果")
    five_item_total = sum(
        _number(text) for text in page.locator(".status-counts dd").all_inner_texts()
    )
    assert five_item_total > 0
    assert_accessible(page)

    switch_language(page, "en")

    expect(page.locator("h1")).to_have_text(str(insurer_name))
    expect(page.locator("#members-heading")).to_have_text("Members with an active qualification")
    expect(page.locator("#five-item-heading")).to_have_text("5-item check results")
    assert _number(members_value.inner_text()) > 0
    assert_accessible(page)


def test_administrator_sees_national_uptake(page: Page, onshi_server: OnshiServer) -> None:
    account = demo_staff("demo-admin")
    [(persons,)] = onshi_server.query("SELECT count(*) FROM persons")
    [(institutions,)] = onshi_server.query("SELECT count(*) FROM institutions")

    sign_in(page, account)

    expect(page).to_have_url(re.compile(r"/admin/?$"))
    expect(page.locator("h1")).to_have_text("全国の導入・利用状況")
    expect(page.locator("#uptake-heading")).to_have_text("施設種別ごとのカードリーダー導入状況")
    persons_value = page.locator(".stat", has_text="登録されている加入者").locator(".stat__value")
    assert _number(persons_value.inner_text()) == int(str(persons)) > 0
    total_row = page.locator("#uptake-heading ~ .table-wrap tr.row--total")
    assert _number(total_row.locator("td").first.inner_text()) == int(str(institutions)) > 0
    assert page.locator("#uptake-heading ~ .table-wrap tbody tr").count() > 1
    assert_accessible(page)

    switch_language(page, "en")

    expect(page.locator("h1")).to_have_text("National uptake and usage")
    expect(page.locator("#uptake-heading")).to_have_text("Card-reader uptake by facility type")
    expect(page.get_by_text("Persons registered")).to_be_visible()
    assert _number(total_row.locator("td").first.inner_text()) == int(str(institutions))
    assert_accessible(page)
