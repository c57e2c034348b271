"""A reception clerk watches /clinic/reception while a card reader verifies a card through the
device API: the result card appears without a reload (server-sent events), and the page passes
axe.

The shared e2e server does not trust any JPKI CA, so this module runs its own server on a copy
of the seeded demo nation, trusting a development PKI made for the test. The reader is paired the
way a clinic does it (the institution admin's pairing code on /clinic/devices), and signs like
reader_bridge (tests/device_client.py); the card is a development-PKI card issued to a demo
person's SIMULATED J-LIS resident record and linked (利用登録) through J-LIS's answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from e2e.cards import (
    card_check,
    demo_person,
    page_on,
    pairing_code,
    trusting_server_on,
)
from e2e.harness import OnshiServer
from e2e.helpers import assert_accessible, demo_staff, sign_in

CONSENTS = {"health_check": True, "drug": True, "clinical": False, "surgery": False}


@pytest.fixture(scope="module")
def trusting_server(
    onshi_server: OnshiServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OnshiServer]:
    data_dir = tmp_path_factory.mktemp("onshi-e2e-reception")
    with trusting_server_on(onshi_server, data_dir) as server:
        yield server


def test_a_card_verification_appears_live_on_the_reception_screen(
    browser: Browser,
    browser_context_args: dict[str, Any],
    trusting_server: OnshiServer,
) -> None:
    server = trusting_server
    person = demo_person(server, "demo-reception")

    clerk = page_on(browser, browser_context_args, server)
    sign_in(clerk, demo_staff("demo-reception"))
    clerk.goto("/clinic/reception")
    expect(clerk.locator("h1")).to_have_text("受付（資格確認結果）")
    expect(clerk.locator("#reception-status")).to_have_text("新しい確認結果は自動で表示されます。")
    clerk.evaluate("window.__receptionNotReloaded = true")
    cards_before = clerk.locator("#reception-feed > li").count()

    # Pair a reader at the clerk's institution, as the clinic's administrator does.
    admin = page_on(browser, browser_context_args, server)
    code = pairing_code(admin)
    admin.context.close()
    result = card_check(server, code, person, CONSENTS)
    assert result["result_code"] == 1

    newest = clerk.locator("#reception-feed > li").first
    expect(clerk.locator("#reception-feed > li")).to_have_count(cards_before + 1)
    expect(newest.locator(".reception-card__verdict")).to_have_text("有効")
    expect(newest).to_contain_text(person["name"])
    expect(newest).to_contain_text(person["birth_date"])
    expect(newest).to_contain_text(person["insurer_number"])
    expect(newest.locator(".reception-card__method")).to_have_text("暗証番号")
    expect(newest).to_contain_text("薬剤: 同意あり（残り23時間")
    expect(newest).to_contain_text("診療: 同意なし")
    expect(clerk.locator("#reception-status")).to_contain_text(person["name"])
    assert clerk.evaluate("window.__receptionNotReloaded === true"), "the page was reloaded"
    assert_accessible(clerk)
    clerk.context.close()
