"""A card check with consent at a clinic, as e2e tests need it: a server of its own on a copy
of the seeded demo nation (trusting a development PKI made for the test, optionally with its
clock moved ahead), a demo person with a development-PKI card linked through J-LIS, a reader
paired by the institution admin, and the verification through the device API (signed like
reader_bridge: tests/device_client.py)."""

from __future__ import annotations

import base64
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from playwright.sync_api import Browser, Page, expect

from e2e.harness import OnshiServer, ServerError
from e2e.helpers import demo_staff, sign_in
from onshi.clock import SystemClock, today_jst
from onshi.pki.devpki import CardRecord, DevelopmentPKI
from tests.device_client import DeviceKey, b64u


def copy_demo_nation(source: OnshiServer, data_dir: Path) -> DevelopmentPKI:
    """The seeded database and development secrets copied into ``data_dir``, and a fresh
    development PKI there (its CA and CRL are what the new server trusts)."""
    with (
        closing(sqlite3.connect(source.data_dir / "onshi.sqlite3")) as origin,
        closing(sqlite3.connect(data_dir / "onshi.sqlite3")) as target,
    ):
        origin.backup(target)
    secrets_file = source.data_dir / "development-secrets.json"
    if secrets_file.exists():
        shutil.copy2(secrets_file, data_dir / secrets_file.name)
    pki = DevelopmentPKI(data_dir / "dev-pki")
    pki.init(at=datetime.now(UTC) - timedelta(days=1), crl_url="http://127.0.0.1/crl.pem")
    return pki


def trusting_env(pki: DevelopmentPKI) -> dict[str, str]:
    return {"ONSHI_JPKI_TRUST_ANCHORS": str(pki.ca_path), "ONSHI_JPKI_CRLS": str(pki.crl_path)}


@contextmanager
def trusting_server_on(source: OnshiServer, data_dir: Path) -> Iterator[OnshiServer]:
    """A server of its own on a copy of ``source``'s demo nation, trusting a development PKI
    made for the test; a start-up failure fails the test with the server's own message."""
    pki = copy_demo_nation(source, data_dir)
    server = OnshiServer(data_dir=data_dir, extra_env=trusting_env(pki))
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


def page_on(browser: Browser, context_args: dict[str, Any], server: OnshiServer) -> Page:
    context = browser.new_context(**{**context_args, "base_url": server.origin})
    return context.new_page()


def demo_person(server: OnshiServer, login_id: str) -> dict[str, Any]:
    """A person with one member record, current and linked (not one of the demo staff), and
    their SIMULATED J-LIS resident record (cards are issued to it); the name is the member
    record's (what the answer shows)."""
    rows = server.query(
        "SELECT q.name, '', q.birth_date, i.number, q.symbol, q.number, "
        "q.branch, r.id, l.person_id FROM qualifications q "
        "JOIN member_links l ON l.qualification_id = q.id "
        "JOIN insurers i ON i.id = q.insurer_id "
        "JOIN persons p ON p.id = l.person_id "
        "JOIN sim_jlis_residents r ON r.my_number_hash = p.my_number_hash "
        "WHERE q.lost_on IS NULL AND l.ended_at IS NULL AND l.status = 'linked' "
        "AND (SELECT count(*) FROM member_links o WHERE o.person_id = l.person_id) = 1 "
        "ORDER BY l.person_id LIMIT 1"
    )
    assert rows, "the seeded nation has no person with a current qualification"
    name, _unused, birth, insurer_number, symbol, number, branch, resident_id, person_id = rows[0]
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
        "resident_id": resident_id,
        "person_id": int(str(person_id)),
    }


def pairing_code(admin_page: Page, login_id: str = "demo-doctor") -> str:
    """The institution admin creates a pairing code on /clinic/devices (shown once)."""
    sign_in(admin_page, demo_staff(login_id))
    admin_page.goto("/clinic/devices")
    admin_page.locator("form[action='/clinic/devices/pairing-codes'] button").click()
    code = admin_page.locator("#pairing-code")
    expect(code).to_be_visible()
    return code.inner_text().replace("-", "").strip()


def card_fields(pki: DevelopmentPKI, card: CardRecord, challenge: str) -> dict[str, str]:
    certificate = pki.card_certificate(card.card_id).public_bytes(serialization.Encoding.DER)
    raw = base64.urlsafe_b64decode(challenge + "=" * (-len(challenge) % 4))
    signature = pki.card_key(card.card_id).sign(raw, padding.PKCS1v15(), hashes.SHA256())
    return {"certificate": b64u(certificate), "signature": b64u(signature)}


def card_check(
    server: OnshiServer, code: str, person: dict[str, Any], consents: dict[str, bool]
) -> dict[str, Any]:
    """Pair a reader with ``code``, issue ``person`` a card, register it for insurance use
    (利用登録) and verify it with the PIN giving ``consents``; returns the verification's
    answer."""
    key = DeviceKey.generate(SystemClock())
    pki = DevelopmentPKI(server.data_dir / "dev-pki")
    issued_on = today_jst(SystemClock()) - timedelta(days=30)
    issued = server.cli(
        "dev-pki", "issue", "--resident-id", str(person["resident_id"]),
        "--issued-on", issued_on.isoformat(),
    )  # fmt: skip
    card = pki.card(issued.split()[0])
    with httpx.Client(base_url=server.direct_url, timeout=10) as api:
        paired = api.post(
            "/api/v1/devices/pair",
            json={"code": code, "public_key": key.public_key_b64u, "label": "e2e受付"},
        )
        assert paired.status_code == 201, paired.text
        key.device_id = int(paired.json()["device_id"])

        # 利用登録: the PIN-proved certificate only; the portal asks J-LIS for its holder.
        challenge = key.signed_post(api, "/api/v1/verifications/challenges", {}).json()
        link = key.signed_post(
            api,
            "/api/v1/card-links",
            {
                "challenge_id": challenge["challenge_id"],
                **card_fields(pki, card, challenge["challenge"]),
            },
        )
        assert link.status_code in (200, 201), link.text

        # The card verification itself (暗証番号).
        challenge = key.signed_post(api, "/api/v1/verifications/challenges", {}).json()
        fields = card_fields(pki, card, challenge["challenge"])
        result = key.signed_post(
            api,
            "/api/v1/verifications",
            {
                "challenge_id": challenge["challenge_id"],
                "certificate": fields["certificate"],
                "method": "pin",
                "proof": {"signature": fields["signature"]},
                "consents": consents,
                "limit_info": True,
                "institution_patient_number": None,
            },
        )
        assert result.status_code == 200, result.text
        answer: dict[str, Any] = result.json()
        return answer
