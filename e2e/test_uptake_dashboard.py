"""An administrator opens the uptake map, switches measure and facility type, drills into a
prefecture (htmx search), downloads the CSV; axe finds no serious or critical violation."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from e2e.harness import OnshiServer
from e2e.helpers import assert_accessible, demo_staff, sign_in

NATIONAL_HEADER = (
    "type,facilities,applied,ready,operating,applied_rate_all,applied_rate_mandatory,"
    "ready_rate_all,ready_rate_mandatory,operating_rate_all,operating_rate_mandatory"
)


def test_administrator_uses_the_uptake_map(page: Page, onshi_server: OnshiServer) -> None:
    sign_in(page, demo_staff("demo-admin"))
    page.get_by_role("link", name="導入・利用状況").click()
    expect(page).to_have_url(re.compile(r"/admin/uptake$"))
    expect(page.locator("h1")).to_have_text("導入状況（都道府県別）")
    tiles = page.locator("svg.tile-map__svg a.tile")
    expect(tiles).to_have_count(47)
    expect(page.locator("#national-table tbody tr")).to_have_count(5)
    expect(page.locator("#map-heading")).to_contain_text("病院")
    assert_accessible(page)

    page.locator("#f-type").select_option("dental_clinic")
    page.locator("#f-measure").select_option("applied_rate_mandatory")
    page.locator("#f-pref").select_option(["13", "27"])
    with page.expect_navigation():
        page.get_by_role("button", name="表示").click()
    expect(page).to_have_url(re.compile(r"type=dental_clinic"))
    expect(page.locator("#map-heading")).to_contain_text("歯科診療所")
    expect(page.locator("#map-heading")).to_contain_text("申込率（義務化対象）")
    expect(page.locator("figure.line-chart .legend li")).to_have_count(3)
    expect(page.locator("#prefecture-table tbody tr")).to_have_count(47)
    assert_accessible(page)

    tokyo = page.locator('a.tile[aria-label^="東京 "]')
    tokyo.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("東京都の医療機関等")
    rows = page.locator("#institution-table tbody tr")
    expect(rows.first).to_be_visible()
    assert_accessible(page)
    first_code = rows.first.locator("td").first.inner_text()
    page.locator("#institution-type").select_option("")
    page.locator("#institution-q").fill(first_code)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(first_code)
    page.locator("#institution-q").fill("該当しない名前ｘｙｚ")
    expect(page.locator("#institutions .empty-state")).to_be_visible()

    page.goto("/admin/uptake?source=official&type=medical_clinic")
    expect(page.locator("#national-table")).to_contain_text("72.2%")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="全国の表を CSV でダウンロード").click()
    download = download_info.value
    assert download.suggested_filename == "uptake-national-official-2023-06-18.csv"
    text = Path(download.path()).read_text(encoding="utf-8")
    assert text.splitlines()[0] == NATIONAL_HEADER
    assert "hospital,8170,8045,7514,7178,98.5,98.7,92.0,92.2,87.9,88.0" in text
    assert_accessible(page)

    page.goto("/admin/uptake/usage")
    expect(page.locator("h1")).to_have_text("利用状況（月別）")
    expect(page.locator("#usage-table tbody tr")).to_have_count(5)
    assert_accessible(page)
