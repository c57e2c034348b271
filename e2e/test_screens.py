"""Screens in Chromium: htmx error answers render in place (and clear the stale result), and
every patient page at 360 px has nothing that scrolls sideways, a header of at most a quarter of
the screen, no failed request (favicon included) and distinct landmark names."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, Response, expect

from e2e.harness import OnshiServer
from e2e.helpers import VirtualAuthenticator, assert_accessible, demo_staff, sign_in
from onshi.db.engine import make_engine
from onshi.seeding.accounts import demo_patient

# Elements wider inside than their box (not inside a deliberately clipped, visually hidden
# element such as a table's heading row kept for screen readers).
OVERFLOWING_JS = """() => {
  const clipped = (el) => {
    for (let a = el; a; a = a.parentElement) {
      if (getComputedStyle(a).clip !== 'auto' || a.classList.contains('skip-link')) return true;
    }
    return false;
  };
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.clientWidth <= 1 || clipped(el)) continue;
    if (el.scrollWidth > el.clientWidth + 1) {
      out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${el.className}`
        + ` ${el.scrollWidth}>${el.clientWidth}`);
    }
  }
  return out;
}"""


def _valid_card(server: OnshiServer) -> tuple[str, str, str, str, str]:
    """保険者番号, 記号, 番号, 枝番, 生年月日 of a current member record with a shown link."""
    rows = server.query(
        "SELECT i.number, q.symbol, q.number, coalesce(q.branch, ''), q.birth_date "
        "FROM qualifications q JOIN insurers i ON i.id = q.insurer_id "
        "JOIN member_links l ON l.qualification_id = q.id "
        "WHERE q.lost_on IS NULL AND q.symbol IS NOT NULL "
        "AND l.ended_at IS NULL AND l.status = 'linked' "
        "ORDER BY q.id LIMIT 1"
    )
    assert rows, "the seeded nation has no current qualification"
    insurer, symbol, number, branch, birth = rows[0]
    return str(insurer), str(symbol), str(number), str(branch), str(birth)[:10]


def test_lookup_error_renders_in_place_and_clears_the_old_result(
    onshi_server: OnshiServer, page: Page
) -> None:
    insurer, symbol, number, branch, birth = _valid_card(onshi_server)
    sign_in(page, demo_staff("demo-reception"))
    page.goto("/clinic/lookup")
    page.locator("#lookup-insurer_number").fill(insurer)
    page.locator("#lookup-symbol").fill(symbol)
    page.locator("#lookup-number").fill(number)
    page.locator("#lookup-branch").fill(branch)
    page.locator("#lookup-birth_date").fill(birth)
    page.get_by_role("button", name="照会する").click()
    result = page.locator(".lookup-result")
    expect(result).to_be_visible()
    expect(result.locator(".badge")).to_have_text("有効")
    url_before = page.url

    # Wrong inputs: the 422 fragment replaces the form in place, the old result is gone.
    page.locator("#lookup-insurer_number").fill("12AB")
    page.locator("#lookup-birth_date").fill("")
    with page.expect_response(lambda r: r.url.endswith("/clinic/lookup")) as answer:
        page.get_by_role("button", name="照会する").click()
    assert answer.value.status == 422
    expect(page.locator("#lookup-insurer_number-error")).to_be_visible()
    expect(page.locator("#lookup-birth_date-error")).to_be_visible()
    expect(page.locator(".lookup-result")).to_have_count(0)
    expect(page.locator("#lookup-insurer_number")).to_have_value("12AB")
    expect(page.locator("#lookup-insurer_number")).to_have_attribute("aria-invalid", "true")
    assert page.url == url_before  # swapped by htmx, not a page load
    assert_accessible(page)


def test_other_htmx_errors_are_announced_not_swallowed(
    onshi_server: OnshiServer, page: Page
) -> None:
    """An error answer that is not a form fragment (here: a CSRF refusal) shows its message in
    the page's alert region."""
    sign_in(page, demo_staff("demo-doctor"))
    page.goto("/clinic/devices")
    page.evaluate(
        "() => document.body.setAttribute('hx-headers', JSON.stringify({'X-CSRF-Token': 'x'}))"
    )
    form = page.locator("form[hx-post='/clinic/devices/pairing-codes']")
    form.locator("input[name=csrf_token]").evaluate("el => el.value = 'tampered'")
    form.get_by_role("button").click()
    alert = page.locator("#htmx-error")
    expect(alert).to_be_visible()
    expect(alert).not_to_be_empty()


@pytest.fixture
def patient_page(onshi_server: OnshiServer, mobile_page: Page) -> Iterator[Page]:
    """The seeded demo patient, enrolled with a passkey, signed in on a 360 px phone."""
    engine = make_engine(onshi_server.database_url)
    try:
        with engine.connect() as connection:
            patient = demo_patient(connection)
    finally:
        engine.dispose()
    assert patient is not None
    output = onshi_server.cli("patient-enrolment-code", "--person-id", str(patient[0]))
    match = re.search(r"(http://\S+/me/enrol\?code=\S+)", output)
    assert match is not None, output
    authenticator = VirtualAuthenticator.attach(mobile_page)
    try:
        mobile_page.goto(match.group(1))
        mobile_page.get_by_role("button", name="パスキーを作成して登録する").click()
        mobile_page.wait_for_url(f"{onshi_server.origin}/me")
        yield mobile_page
    finally:
        authenticator.remove()


def _detail_link(page: Page, path: str, pattern: str) -> str | None:
    page.goto(path)
    links = page.locator(f"a[href^='{pattern}']")
    return links.first.get_attribute("href") if links.count() else None


def test_every_patient_page_fits_a_phone(patient_page: Page) -> None:
    page = patient_page
    failed: list[str] = []

    def record(response: Response) -> None:
        if response.status >= 400:
            failed.append(f"{response.status} {response.url}")

    page.on("response", record)
    paths = [
        "/me",
        "/me/drugs",
        "/me/health-checks",
        "/me/clinical",
        "/me/expenses",
        "/me/consents",
        "/me/access-log",
        "/me/access-log?self=true",
    ]
    for detail in (
        _detail_link(page, "/me/drugs", "/me/drugs/"),
        _detail_link(page, "/me/health-checks", "/me/health-checks/"),
    ):
        if detail:
            paths.append(detail)
    years = page.goto("/me/expenses")
    assert years is not None
    year_link = page.locator(".year-list a[href*='year=']")
    if year_link.count():
        paths.append(str(year_link.first.get_attribute("href")))

    viewport = page.viewport_size or {"width": 360, "height": 740}
    for path in paths:
        page.goto(path)
        overflowing = page.evaluate(OVERFLOWING_JS)
        assert overflowing == [], f"{path}: sideways scroll at 360 px: {overflowing}"
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{path}: page is {width}px wide"
        header = page.locator(".site-header").bounding_box()
        assert header is not None
        assert header["height"] <= viewport["height"] / 4, (
            f"{path}: header takes {header['height']:.0f} of {viewport['height']} px"
        )
        assert_accessible(page)
    assert failed == [], failed

    # The list columns stay readable as cards: every cell shows its heading.
    page.goto("/me/expenses")
    first = page.locator(".table--cards tbody tr").first
    if first.count():
        expect(first.locator(".cell__label").first).to_be_visible()

    # /me: two landmarks about consents would share a name; now one does.
    page.goto("/me")
    consent_regions = page.get_by_role("region", name="同意の記録", exact=True)
    expect(consent_regions).to_have_count(1)
