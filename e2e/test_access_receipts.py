"""The patient's access log checks each row's transparency-log receipt in the browser
(WebCrypto SHA-256 + Ed25519, static/js/receipts.js): 検証済み for a real receipt, and the same
checker rejects an altered one. The receipt also verifies offline with the CLI."""

from __future__ import annotations

import json
import re
import time

import pytest
from playwright.sync_api import Page, expect

from e2e.harness import OnshiServer
from e2e.helpers import VirtualAuthenticator, assert_accessible
from onshi.audit.models import AccessPurpose, DataKind
from onshi.audit.services import record_data_access
from onshi.clock import SystemClock
from onshi.db.engine import make_engine, make_session_factory
from onshi.seeding.accounts import demo_patient

pytestmark = pytest.mark.e2e


def _viewed_by_an_institution(server: OnshiServer) -> int:
    """An emergency view of the demo patient's drug data by a seeded institution (committed;
    the server's integrator puts it in the log within a moment)."""
    engine = make_engine(server.database_url)
    try:
        with engine.connect() as connection:
            patient = demo_patient(connection)
        assert patient is not None
        institution = server.query("SELECT id FROM institutions ORDER BY id LIMIT 1")[0][0]
        with make_session_factory(engine)() as db:
            access = record_data_access(
                db,
                SystemClock(),
                person_id=patient[0],
                data_kind=DataKind.DRUG,
                purpose=AccessPurpose.EMERGENCY,
                institution_id=int(str(institution)),
            )
            db.commit()
            access_id = access.id
    finally:
        engine.dispose()
    return access_id


def _integrated(server: OnshiServer, access_id: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        rows = server.query(
            "SELECT leaf_index FROM tlog_leaves WHERE entry_kind = 'access' AND entry_id = ?",
            access_id,
        )
        if rows:
            return
        time.sleep(0.1)
    pytest.fail("the access was not integrated into the log")


def test_access_receipts_verify_in_the_browser(
    onshi_server: OnshiServer, mobile_page: Page
) -> None:
    page = mobile_page
    access_id = _viewed_by_an_institution(onshi_server)
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
    _integrated(onshi_server, access_id)

    authenticator = VirtualAuthenticator.attach(page)
    try:
        page.goto(match.group(1))
        page.get_by_role("button", name="パスキーを作成して登録する").click()
        page.wait_for_url(f"{onshi_server.origin}/me")

        page.goto("/me/access-log")
        cell = page.locator(f'[data-access-id="{access_id}"]')
        expect(cell).to_have_attribute("data-receipt-state", "verified")
        expect(cell.locator("[data-receipt-status]")).to_contain_text("検証済み")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"page is {width}px wide at a 360px viewport"
        assert_accessible(page)

        # The same checker in the page refuses an altered receipt.
        url = f"/me/access-log/{access_id}/receipt"
        verdicts = page.evaluate(
            """async ([url, id]) => {
                const receipt = await (await fetch(url)).json();
                const outcome = async (r) => {
                    try { await window.onshiReceipts.checkReceipt(r, id); return "ok"; }
                    catch (e) { return "refused: " + e.message; }
                };
                const entry = JSON.parse(atob(receipt.entry));
                entry.purpose = "normal";
                const forged = btoa(JSON.stringify(entry));
                return [
                    await outcome(receipt),
                    await outcome({...receipt, entry: forged}),
                    await outcome({...receipt, leaf_index: receipt.leaf_index + 1}),
                    await outcome({...receipt, checkpoint: receipt.checkpoint.replace(
                        /\\n(\\d+)\\n/, (m, n) => "\\n" + (Number(n) + 1) + "\\n")}),
                    JSON.stringify(receipt),
                ];
            }""",
            [url, access_id],
        )
        assert verdicts[0] == "ok"
        assert all(v.startswith("refused") for v in verdicts[1:4]), verdicts

        # English, and the downloaded receipt verifies offline.
        page.get_by_role("link", name="English").click()
        page.goto("/me/access-log")
        expect(
            page.locator(f'[data-access-id="{access_id}"] [data-receipt-status]')
        ).to_contain_text("Verified")
        receipt_path = onshi_server.data_dir / "receipt.json"
        receipt_path.write_text(verdicts[-1])
        assert "VERIFIED" in onshi_server.cli("audit", "verify-receipt", str(receipt_path))
        assert json.loads(verdicts[-1])["version"] == 1
    finally:
        authenticator.remove()
