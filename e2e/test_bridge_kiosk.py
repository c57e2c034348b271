"""The whole reception desk: ``reader-bridge run`` (a subprocess) on a private pcscd with the
vpcd virtual reader, a VIRTUAL My Number card made from the portal's development PKI
(``onshi dev-pki issue`` → ``reader-bridge virtual-card create``), the patient kiosk driven in
Chromium, and the reception screen of the demo clinic showing the result live.

1. PIN path: the card is not yet registered, so after the PIN and the consents the kiosk offers
   利用登録 (card + PIN + consent: nothing typed; J-LIS names the card's holder); the patient
   agrees and the same visit ends with the verdict: one PIN entry, one consent round. The
   result appears on /clinic/reception.
2. 目視 path: the institution admin switches the reader to 目視確認 on /clinic/devices; the
   kiosk says staff will confirm, a clerk clicks 確認 on the reception screen, the kiosk shows
   the verdict.
axe runs on every kiosk screen reached, and at 1024×768 no button is below the fold.
"""

from __future__ import annotations

import os
import re
import selectors
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.cards import demo_person, page_on, pairing_code
from e2e.harness import OnshiServer
from e2e.helpers import assert_accessible, demo_staff, sign_in
from e2e.test_reception_live import trusting_server
from tests.integration.reader_bridge.pcsc_harness import HarnessError, PcscdHarness

__all__ = ["trusting_server"]  # the module-scoped server that trusts its development PKI

PIN = "1234"
LABEL = "受付E2E"
START_SECONDS = 30.0


def bridge_command() -> list[str]:
    script = Path(sys.executable).with_name("reader-bridge")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "reader_bridge.cli"]


def _run(args: list[str], env: dict[str, str], timeout: float = 60) -> str:
    result = subprocess.run(
        [*bridge_command(), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"reader-bridge {' '.join(args[:2])} failed:\n{output}"
    return output


def _read_line(process: subprocess.Popen[str], pattern: str, timeout: float) -> re.Match[str]:
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < deadline:
        if not selector.select(timeout=0.2):
            continue
        line = process.stdout.readline()
        if not line:
            break
        seen += line
        match = re.search(pattern, line)
        if match:
            return match
    raise AssertionError(f"no line matching {pattern!r} within {timeout}s:\n{seen}")


@dataclass
class Desk:
    server: OnshiServer
    pcscd: PcscdHarness
    kiosk_url: str
    card_dir: Path
    env: dict[str, str]
    person: dict[str, Any]
    log_path: Path

    def place_card(self) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [
                *bridge_command(),
                "virtual-card",
                "insert",
                "--vpcd-port",
                str(self.pcscd.slots[0].port),
                str(self.card_dir),
            ],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        _read_line(process, r"virtual card on vpcd port", 15)
        return process

    def take_card(self, process: subprocess.Popen[str]) -> None:
        _run(["virtual-card", "remove", str(self.card_dir)], self.env)
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def desk(
    trusting_server: OnshiServer,
    browser: Browser,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Desk]:
    server = trusting_server
    work = tmp_path_factory.mktemp("bridge-desk")
    try:
        pcscd = PcscdHarness(work / "pcscd")
        pcscd.start()
    except HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("ONSHI_", "LISTEN_"))},
        **pcscd.client_environment(),
        "PYTHONUNBUFFERED": "1",
    }
    person = demo_person(server, "demo-reception")

    admin = page_on(browser, {"locale": "ja-JP", "timezone_id": "Asia/Tokyo"}, server)
    code = pairing_code(admin)
    admin.context.close()
    state = work / "state"
    _run(
        ["pair", "--portal", server.direct_url, "--code", code, "--label", LABEL,
         "--state-dir", str(state)],
        env,
    )  # fmt: skip

    issued = server.cli("dev-pki", "issue", "--resident-id", str(person["resident_id"]))
    card_id = issued.split()[0]
    card_dir = work / "card"
    _run(
        ["virtual-card", "create", "--from-dev-pki", str(server.data_dir / "dev-pki"),
         "--card", card_id, "--pin", PIN, "--out", str(card_dir)],
        env,
    )  # fmt: skip

    log_path = work / "bridge.log"
    with log_path.open("w") as log:
        bridge = subprocess.Popen(
            [*bridge_command(), "run", "--state-dir", str(state), "--port", "0"],
            env={**env, "XDG_STATE_HOME": str(work)},
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.DEVNULL,
            text=True,
        )
    try:
        url = _read_line(bridge, r"kiosk on (http://127\.0\.0\.1:\d+/)", START_SECONDS).group(1)
        yield Desk(server, pcscd, url, card_dir, env, person, log_path)
    finally:
        bridge.terminate()
        try:
            bridge.wait(timeout=10)
        except subprocess.TimeoutExpired:
            bridge.kill()
            bridge.wait()
        pcscd.stop()
        logged = log_path.read_text(errors="replace")
        assert PIN not in logged, "the PIN appeared in the bridge's log"
        assert person["name"] not in logged


@pytest.fixture
def kiosk(browser: Browser, desk: Desk) -> Iterator[Page]:
    context = browser.new_context(locale="ja-JP", viewport={"width": 1024, "height": 768})
    page = context.new_page()
    page.goto(desk.kiosk_url)
    yield page
    context.close()


@pytest.fixture
def clerk(browser: Browser, browser_context_args: dict[str, Any], desk: Desk) -> Iterator[Page]:
    page = page_on(browser, browser_context_args, desk.server)
    sign_in(page, demo_staff("demo-reception"))
    page.goto("/clinic/reception")
    yield page
    page.context.close()


def _step(page: Page, step: str) -> None:
    expect(page.locator("body")).to_have_attribute("data-step", step)


def _type_pin(page: Page, pin: str) -> None:
    for digit in pin:
        page.locator(f".keypad button[data-key='{digit}']").click()
    expect(page.locator("#pin")).to_have_value(pin)
    page.get_by_role("button", name="確定").click()


def _consents_and_limit(page: Page) -> None:
    _step(page, "consent")
    for kind in ("consent_health_check", "consent_drug"):
        page.locator(f"input[name={kind}][value='1']").check()
    for kind in ("consent_clinical", "consent_surgery"):
        page.locator(f"input[name={kind}][value='0']").check()
    _no_button_below_the_fold(page)
    page.get_by_role("button", name="次へ").click()
    _step(page, "limit")
    _no_button_below_the_fold(page)
    page.get_by_role("button", name="提供する", exact=True).click()


def _no_button_below_the_fold(page: Page) -> None:
    """Every visible button (and the PIN field) lies inside the 1024×768 viewport."""
    below = page.evaluate(
        """() => [...document.querySelectorAll('button, input:not([type=hidden])')]
            .filter((el) => el.offsetParent !== null)
            .filter((el) => el.getBoundingClientRect().bottom > window.innerHeight)
            .map((el) => el.textContent.trim() || el.name || el.id)"""
    )
    assert below == [], (
        f"below the fold at 1024×768 on {page.locator('body').get_attribute('data-step')}: {below}"
    )


def _register(kiosk: Page) -> None:
    """利用登録 at the kiosk: the patient only agrees (no numbers, no second PIN)."""
    _step(kiosk, "register_intro")
    expect(kiosk.locator("input:not([type=hidden])")).to_have_count(0)  # nothing to type
    assert_accessible(kiosk)
    _no_button_below_the_fold(kiosk)
    kiosk.get_by_role("button", name="同意して利用登録する").click()


def test_pin_path_with_registration_shows_on_the_reception_screen(
    desk: Desk, kiosk: Page, clerk: Page
) -> None:
    _step(kiosk, "place_card")
    expect(kiosk.locator("h1")).to_have_text("マイナンバーカードを置いてください")
    assert_accessible(kiosk)
    cards_before = clerk.locator("#reception-feed > li").count()

    card = desk.place_card()
    try:
        _step(kiosk, "choose_method")
        assert_accessible(kiosk)
        _no_button_below_the_fold(kiosk)
        kiosk.get_by_role("button", name="暗証番号").click()
        _step(kiosk, "pin")
        expect(kiosk.locator("#tries")).to_contain_text("残り3回")
        assert_accessible(kiosk)
        _no_button_below_the_fold(kiosk)
        _type_pin(kiosk, "9999")
        expect(kiosk.locator("#tries")).to_contain_text("残り2回")
        expect(kiosk.locator(".notice")).to_contain_text("暗証番号が違います")
        kiosk.locator("#pin").fill(PIN)  # keyboard entry works as well as the keypad
        kiosk.locator("#pin").press("Enter")
        _step(kiosk, "consent")
        assert_accessible(kiosk)
        _no_button_below_the_fold(kiosk)
        _consents_and_limit(kiosk)

        # Not yet registered for insurance use: 利用登録 in the same visit, then the verdict.
        _register(kiosk)
        _step(kiosk, "done")
        expect(kiosk.locator("#verdict")).to_have_text("有効")
        expect(kiosk.locator("#verdict")).to_have_attribute("data-result-code", "1")
        expect(kiosk.locator(".notice")).to_contain_text("利用登録が完了しました")
        assert_accessible(kiosk)
        _no_button_below_the_fold(kiosk)

        kiosk.get_by_role("button", name="English").click()
        expect(kiosk.locator("html")).to_have_attribute("lang", "en")
        expect(kiosk.locator("#verdict")).to_have_text("Valid")
    finally:
        desk.take_card(card)
    _step(kiosk, "place_card")

    newest = clerk.locator("#reception-feed > li").first
    # the not-registered attempt and the verification itself
    expect(clerk.locator("#reception-feed > li")).to_have_count(cards_before + 2)
    expect(newest.locator(".reception-card__verdict")).to_have_text("有効")
    expect(newest).to_contain_text(desk.person["name"])
    expect(newest.locator(".reception-card__method")).to_have_text("暗証番号")


def test_card_taken_away_mid_flow_starts_over(desk: Desk, kiosk: Page) -> None:
    card = desk.place_card()
    try:
        _step(kiosk, "choose_method")
        kiosk.get_by_role("button", name="暗証番号").click()
        _step(kiosk, "pin")
    finally:
        desk.take_card(card)
    _step(kiosk, "place_card")
    expect(kiosk.locator(".notice")).to_contain_text("カードが取り外されました")


def test_visual_check_confirmed_on_the_reception_screen(
    desk: Desk, kiosk: Page, clerk: Page, browser: Browser, browser_context_args: dict[str, Any]
) -> None:
    admin = page_on(browser, browser_context_args, desk.server)
    sign_in(admin, demo_staff("demo-doctor"))
    admin.goto("/clinic/devices")
    row = admin.locator("tr", has_text=LABEL)
    row.locator("form[action$='/mode'] button").click()
    expect(admin.locator("tr", has_text=LABEL)).to_contain_text("目視")
    admin.context.close()

    card = desk.place_card()
    try:
        _step(kiosk, "visual_notice")
        expect(kiosk.locator("h1")).to_have_text("職員が本人確認を行います")
        assert_accessible(kiosk)
        kiosk.get_by_role("button", name="次へ").click()
        _consents_and_limit(kiosk)
        _step(kiosk, "awaiting_staff")
        assert_accessible(kiosk)

        pending = clerk.locator(".reception-card--pending").first
        expect(pending).to_contain_text(desk.person["name"])
        pending.locator("form[action$='/confirm'] button").click()

        _step(kiosk, "done")
        expect(kiosk.locator("#verdict")).to_have_text("有効")
    finally:
        desk.take_card(card)
