"""An insurer operator uploads a member file with good, doubtful and bad rows, watches the
progress, downloads the per-row results, corrects a held record; a second operator approves;
the person's card check turns 有効 and their portal says the registration is complete.

The card check is a real one, made the way reader_bridge makes it: the bridge's own kiosk flow
(:class:`reader_bridge.flow.KioskFlow`) on an in-process reader holding a VIRTUAL My Number card
(``reader-bridge virtual-card create`` from a development-PKI certificate that ``onshi dev-pki
issue`` issued to the held child's SIMULATED J-LIS resident), paired with the demo clinic by
its administrator's pairing code, every request device-signed to the server under test (which
trusts that development PKI). Before the approval the card is registered (利用登録: J-LIS names
its holder) and answers 4 資格情報なし — the child's member record is held and shown nowhere;
after it the same card answers 1 有効."""

from __future__ import annotations

import os
import re
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from playwright.sync_api import Browser, expect

from e2e.cards import page_on, pairing_code
from e2e.harness import OnshiServer
from e2e.helpers import VirtualAuthenticator, assert_accessible, demo_staff, sign_in
from e2e.test_bridge_kiosk import _run
from e2e.test_reception_live import trusting_server
from onshi.identifiers import my_number_check_digit
from reader_bridge.face import SimulatedFaceMatcher
from reader_bridge.flow import KioskFlow, Step
from reader_bridge.identity import save_identity
from reader_bridge.portal import PortalClient, pair
from reader_bridge.readers.inprocess import InProcessReader
from reader_bridge.virtual_card import VirtualJpkiCard

__all__ = ["trusting_server"]  # the module-scoped server that trusts its development PKI

INSURER = "01130012"
HEADER = (
    "event,symbol,number,branch,kanji_name,kana_name,birth_date,sex,address,my_number,"
    "relationship,copayment,acquired_on,lost_on,loss_reason,notified_on"
)


def _number(n: int) -> str:
    body = f"{n:011d}"
    return body + str(my_number_check_digit(body))


ONE, TWO, THREE = _number(77700000001), _number(77700000002), _number(77700000003)
PIN = "4321"
SLOT = "Onshi SIMULATED Reader"
CONSENTS = {"health_check": True, "drug": True, "clinical": False, "surgery": False}


def _residents(server: OnshiServer, tmp_path: Path) -> None:
    path = tmp_path / "residents.csv"
    path.write_text(
        "my_number,kanji_name,kana_name,birth_date,sex,address\n"
        f"{ONE},登録 一郎,トウロク イチロウ,1981-02-03,M,東京都新宿区西新宿2-8-1\n"
        f"{TWO},登録 二美,トウロク フタミ,1983-04-05,F,東京都新宿区西新宿2-8-1\n"
        f"{THREE},登録 三太,トウロク サンタ,2010-06-07,M,東京都新宿区西新宿2-8-1\n",
        encoding="utf-8",
    )
    server.cli("simulated-jlis", "load", str(path))


def _members_file(tmp_path: Path) -> Path:
    rows = [
        # good: all 5 items, own number
        f"acquire,E2E,900001,00,登録 一郎,トウロク イチロウ,1981-02-03,M,東京都新宿区西新宿2-8-1,"
        f"{ONE},1,3,2026-03-25,,,2026-03-27",
        # doubtful: half-width kana and 丁目/番地 notation → linked_confirm
        f"acquire,E2E,900002,00,登録 二美,ﾄｳﾛｸ ﾌﾀﾐ,1983-04-05,F,東京都新宿区西新宿二丁目8番地1号,"
        f"{TWO},2,3,2026-03-25,,,2026-03-27",
        # held: the child registered with his mother's number
        f"acquire,E2E,900003,00,登録 三太,トウロク サンタ,2010-06-07,M,東京都新宿区西新宿2-8-1,"
        f"{TWO},2,2,2026-03-25,,,2026-03-27",
        # bad: the date of birth is not YYYY-MM-DD
        "acquire,E2E,900004,00,登録 四郎,トウロク シロウ,2011/01/01,M,東京都新宿区西新宿2-8-1,,2,2,"
        "2026-03-25,,,2026-03-27",
    ]
    path = tmp_path / "members.csv"
    path.write_text("\r\n".join([HEADER, *rows]) + "\r\n", encoding="utf-8")
    return path


class CardDesk:
    """The demo clinic's reader, run by reader_bridge's kiosk flow in this process, and the
    child's VIRTUAL card."""

    def __init__(self, server: OnshiServer, browser: Browser, work: Path) -> None:
        admin = page_on(browser, {"locale": "ja-JP", "timezone_id": "Asia/Tokyo"}, server)
        code = pairing_code(admin)
        admin.context.close()
        key = Ed25519PrivateKey.generate()
        paired = pair(server.direct_url, code, "登録E2E", key)
        identity = save_identity(
            work / "state", key, device_id=paired.device_id, portal=server.direct_url,
            label="登録E2E", institution=paired.institution,
        )  # fmt: skip
        self.portal = PortalClient(identity)
        self.reader = InProcessReader([SLOT])
        self.flow = KioskFlow(self.reader, self.portal, SimulatedFaceMatcher(), poll_interval=0.05)
        resident = server.query(
            "SELECT id FROM sim_jlis_residents WHERE family_name = '登録' AND given_name = '三太'"
        )[0][0]
        card_id = server.cli("dev-pki", "issue", "--resident-id", str(resident)).split()[0]
        self.card_dir = work / "card"
        pki = server.data_dir / "dev-pki"
        _run(
            ["virtual-card", "create", "--from-dev-pki", str(pki), "--card", card_id,
             "--pin", PIN, "--out", str(self.card_dir)],
            {k: v for k, v in os.environ.items() if not k.startswith(("ONSHI_", "LISTEN_"))},
        )  # fmt: skip

    def _event(self) -> None:
        event = self.reader.wait_for_event(5)
        assert event is not None
        self.flow.handle_event(event)

    def check(self, *, registering: bool) -> dict[str, object]:
        """One visit by PIN: the card placed, PIN, consents, the limit, and — on the first
        visit, when the portal answers that the card is not registered — 利用登録 with the
        patient's agreement; the verdict screen's result. The card is taken away afterwards."""
        card = VirtualJpkiCard.load(self.card_dir)
        self.reader.insert(card, SLOT)
        try:
            self._event()
            assert self.flow.snapshot().step is Step.CHOOSE_METHOD, self.flow.snapshot()
            self.flow.choose("pin")
            self.flow.enter_pin(PIN)
            self.flow.set_consents(CONSENTS)
            self.flow.set_limit(True)
            if registering:  # card.not_registered: 利用登録 in the same visit
                assert self.flow.snapshot().step is Step.REGISTER_INTRO, self.flow.snapshot()
                self.flow.consent_registration()
            screen = self.flow.snapshot()
            assert screen.step is Step.DONE, screen
            assert screen.result is not None
            return dict(screen.result)
        finally:
            self.reader.remove(SLOT)
            self._event()

    def close(self) -> None:
        self.portal.close()


def _portal_says_complete(
    onshi_server: OnshiServer, browser: Browser, member: object, card_person: object
) -> None:
    """The person now linked to ``member`` — the card's holder — enrols on the portal and sees
    the notice."""
    person = onshi_server.query(
        "SELECT person_id FROM member_links WHERE ended_at IS NULL AND qualification_id = ?",
        member,
    )[0][0]
    assert person == card_person
    output = onshi_server.cli("patient-enrolment-code", "--person-id", str(person))
    url = re.search(r"(http://\S+/me/enrol\?code=\S+)", output)
    assert url is not None, output
    portal = page_on(browser, {"locale": "ja-JP", "timezone_id": "Asia/Tokyo"}, onshi_server)
    authenticator = VirtualAuthenticator.attach(portal)
    try:
        portal.goto(url.group(1))
        portal.get_by_role("button", name="パスキーを作成して登録する").click()
        portal.wait_for_url(f"{onshi_server.origin}/me")
        expect(portal.locator("#registration-complete")).to_contain_text("登録が完了しました")
        assert_accessible(portal)
    finally:
        authenticator.remove()


def test_upload_correct_approve_then_valid_and_notified(
    trusting_server: OnshiServer, browser: Browser, tmp_path: Path
) -> None:
    onshi_server = trusting_server
    page = page_on(browser, {"locale": "ja-JP", "timezone_id": "Asia/Tokyo"}, onshi_server)
    _residents(onshi_server, tmp_path)
    sign_in(page, demo_staff("demo-insurer"))
    page.goto("/insurer/registrations")
    expect(page.get_by_role("heading", level=1)).to_have_text("加入者データ登録")
    assert_accessible(page)
    page.set_input_files("#registration-file", str(_members_file(tmp_path)))
    page.get_by_role("button", name="送信する").click()
    expect(page).to_have_url(re.compile(r"/insurer/registrations/\d+$"))
    expect(page.locator("#registration-progress [data-status]")).to_have_attribute(
        "data-status", "done", timeout=30_000
    )
    for outcome, count in (("linked", 1), ("linked_confirm", 1), ("held", 1), ("rejected", 1)):
        expect(page.locator(f'[data-count="{outcome}"]')).to_have_text(str(count))
    with page.expect_download() as download:
        page.get_by_role("link", name="行ごとの結果（CSV）").click()
    lines = Path(download.value.path()).read_text("utf-8").splitlines()
    assert lines[0] == "line,outcome,reason_code,message"
    assert [line.split(",")[1] for line in lines[1:]] == [
        "linked", "linked_confirm", "held", "rejected",
    ]  # fmt: skip
    assert_accessible(page)

    # the held child: corrected with his own number, with a reason
    page.goto("/insurer/registrations/holds")
    member = onshi_server.query("SELECT id FROM qualifications WHERE number = '900003'")[0][0]
    card = page.locator(f'[data-member="{member}"]')
    card.locator("select").select_option("correct")
    card.get_by_label("個人番号（訂正のとき）").fill(THREE)
    card.get_by_label("理由").fill("本人の母に確認し、本人の個人番号を受領")
    card.get_by_role("button", name="申請する").click()
    expect(page.get_by_role("status")).to_contain_text("申請しました")
    expect(page.get_by_text("あなたの申請です")).to_be_visible()
    assert_accessible(page)

    # the child's own card, registered (利用登録) at the clinic: nothing is shown yet
    desk = CardDesk(onshi_server, browser, tmp_path)
    try:
        before = desk.check(registering=True)
        assert before["result_code"] == 4, before
        assert before["verdict"] == {"ja": "資格情報なし", "en": "No qualification found"}

        # the second operator approves
        second = page_on(browser, {"locale": "ja-JP", "timezone_id": "Asia/Tokyo"}, onshi_server)
        sign_in(second, demo_staff("demo-insurer2"))
        second.goto("/insurer/registrations/holds")
        second.get_by_role("button", name="承認する").click()
        expect(second.get_by_role("status")).to_contain_text("承認しました")
        second.context.close()

        after = desk.check(registering=False)
        assert after == {"result_code": 1, "verdict": {"ja": "有効", "en": "Valid"}}
    finally:
        desk.close()
    card_person = onshi_server.query(
        "SELECT person_id FROM verification_events WHERE result_code = 1 ORDER BY id DESC"
    )[0][0]

    _portal_says_complete(onshi_server, browser, member, card_person)
    page.goto("/insurer/registrations/deadline")
    expect(page.get_by_text("登録完了を通知した加入者")).to_be_visible()
