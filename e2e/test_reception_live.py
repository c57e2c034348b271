"""A reception clerk watches /clinic/reception while a card reader verifies a card through the
device API: the result card appears without a reload (server-sent events), and the page passes
axe.

The shared e2e server does not trust any JPKI CA, so this module runs its own server on a copy
of the seeded demo nation, trusting a development PKI made for the test. The reader is paired the
way a clinic does it (the institution admin's pairing code on /clinic/devices), and signs like
reader_bridge (tests/device_client.py); the card is a development-PKI card linked (利用登録) to
a demo person with a current qualification.
"""

from __future__ import annotations

import base64
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from playwright.sync_api import Browser, Page, expect

from e2e.harness import OnshiServer, ServerError
from e2e.helpers import assert_accessible, demo_staff, sign_in
from onshi.clock import SystemClock, today_jst
from onshi.pki.devpki import CardRecord, DevelopmentPKI
from tests.device_client import DeviceKey, b64u

CONSENTS = {"health_check": True, "drug": True, "clinical": False, "surgery": False}


@pytest.fixture(scope="module")
def trusting_server(
    onshi_server: OnshiServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OnshiServer]:
    data_dir = tmp_path_factory.mktemp("onshi-e2e-reception")
    with (
        closing(sqlite3.connect(onshi_server.data_dir / "onshi.sqlite3")) as source,
        closing(sqlite3.connect(data_dir / "onshi.sqlite3")) as target,
    ):
        source.backup(target)
    secrets_file = onshi_server.data_dir / "development-secrets.json"
    if secrets_file.exists():
        shutil.copy2(secrets_file, data_dir / secrets_file.name)
    pki = DevelopmentPKI(data_dir / "dev-pki")
    pki.init(at=datetime.now(UTC) - timedelta(days=1), crl_url="http://127.0.0.1/crl.pem")
    server = OnshiServer(
        data_dir=data_dir,
        extra_env={
            "ONSHI_JPKI_TRUST_ANCHORS": str(pki.ca_path),
            "ONSHI_JPKI_CRLS": str(pki.crl_path),
        },
    )
    failure = ""
    try:
        server.prepare(seed=None)
        server.start()
    except ServerError as exc:
        server.stop()
        failure = str(exc)
    if failure:
        pytest.fail(failure, pytrace=False)
    try:
        yield server
    finally:
        server.stop()


def _page_on(browser: Browser, context_args: dict[str, Any], server: OnshiServer) -> Page:
    context = browser.new_context(**{**context_args, "base_url": server.origin})
    return context.new_page()


def _demo_person(server: OnshiServer, login_id: str) -> dict[str, Any]:
    """A person with one member record, current and linked (not one of the demo staff); the
    name is the member record's (what the answer shows)."""
    rows = server.query(
        "SELECT q.name, '', q.birth_date, i.number, q.symbol, q.number, "
        "q.branch FROM qualifications q JOIN member_links l ON l.qualification_id = q.id "
        "JOIN insurers i ON i.id = q.insurer_id "
        "WHERE q.lost_on IS NULL AND l.ended_at IS NULL AND l.status = 'linked' "
        "AND (SELECT count(*) FROM member_links o WHERE o.person_id = l.person_id) = 1 "
        "ORDER BY l.person_id LIMIT 1"
    )
    assert rows, "the seeded nation has no person with a current qualification"
    name, _unused, birth, insurer_number, symbol, number, branch = rows[0]
    institution = server.query(
        "SELECT institution_id FROM staff_accounts WHERE login_id = ?", login_id
    )[0][0]
    return {
        "name": str(name),
        "birth_date": str(birth)[:10],
        "insurer_number": str(insurer_number),
        "symbol": symbol,
        "number": str(number),
        "branch": branch,
        "institution_id": institution,
    }


def _pairing_code(admin_page: Page) -> str:
    """The institution admin creates a pairing code on /clinic/devices (shown once)."""
    sign_in(admin_page, demo_staff("demo-doctor"))
    admin_page.goto("/clinic/devices")
    admin_page.locator("form[action='/clinic/devices/pairing-codes'] button").click()
    code = admin_page.locator("#pairing-code")
    expect(code).to_be_visible()
    return code.inner_text().replace("-", "").strip()


def _card_fields(pki: DevelopmentPKI, card: CardRecord, challenge: str) -> dict[str, str]:
    certificate = pki.card_certificate(card.card_id).public_bytes(serialization.Encoding.DER)
    raw = base64.urlsafe_b64decode(challenge + "=" * (-len(challenge) % 4))
    signature = pki.card_key(card.card_id).sign(raw, padding.PKCS1v15(), hashes.SHA256())
    return {"certificate": b64u(certificate), "signature": b64u(signature)}


def test_a_card_verification_appears_live_on_the_reception_screen(
    browser: Browser,
    browser_context_args: dict[str, Any],
    trusting_server: OnshiServer,
) -> None:
    server = trusting_server
    person = _demo_person(server, "demo-reception")

    clerk = _page_on(browser, browser_context_args, server)
    sign_in(clerk, demo_staff("demo-reception"))
    clerk.goto("/clinic/reception")
    expect(clerk.locator("h1")).to_have_text("受付（資格確認結果）")
    expect(clerk.locator("#reception-status")).to_have_text("新しい確認結果は自動で表示されます。")
    clerk.evaluate("window.__receptionNotReloaded = true")
    cards_before = clerk.locator("#reception-feed > li").count()

    # Pair a reader at the clerk's institution, as the clinic's administrator does.
    admin = _page_on(browser, browser_context_args, server)
    code = _pairing_code(admin)
    admin.context.close()
    key = DeviceKey.generate(SystemClock())
    pki = DevelopmentPKI(server.data_dir / "dev-pki")
    card = pki.issue(
        person=f"e2e-{person['number']}",
        birth_date=date.fromisoformat(person["birth_date"]),
        issued_on=today_jst(SystemClock()) - timedelta(days=30),
    )
    with httpx.Client(base_url=server.direct_url, timeout=10) as api:
        paired = api.post(
            "/api/v1/devices/pair",
            json={"code": code, "public_key": key.public_key_b64u, "label": "e2e受付"},
        )
        assert paired.status_code == 201, paired.text
        key.device_id = int(paired.json()["device_id"])

        # 利用登録: link the card to the person (PIN signature + 記号番号 + 生年月日).
        challenge = key.signed_post(api, "/api/v1/verifications/challenges", {}).json()
        link = key.signed_post(
            api,
            "/api/v1/card-links",
            {
                "challenge_id": challenge["challenge_id"],
                **_card_fields(pki, card, challenge["challenge"]),
                "person": {
                    "insurer_number": person["insurer_number"],
                    "symbol": person["symbol"],
                    "number": person["number"],
                    "branch": person["branch"],
                    "birth_date": person["birth_date"],
                },
            },
        )
        assert link.status_code in (200, 201), link.text

        # The card verification itself (暗証番号).
        challenge = key.signed_post(api, "/api/v1/verifications/challenges", {}).json()
        fields = _card_fields(pki, card, challenge["challenge"])
        result = key.signed_post(
            api,
            "/api/v1/verifications",
            {
                "challenge_id": challenge["challenge_id"],
                "certificate": fields["certificate"],
                "method": "pin",
                "proof": {"signature": fields["signature"]},
                "consents": CONSENTS,
                "limit_info": True,
                "institution_patient_number": None,
            },
        )
        assert result.status_code == 200, result.text
        assert result.json()["result_code"] == 1

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
