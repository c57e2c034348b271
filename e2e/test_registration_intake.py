"""An insurer operator uploads a member file with good, doubtful and bad rows, watches the
progress, downloads the per-row results, corrects a held record; a second operator approves;
the member's check at a clinic turns 有効 and the person's portal says the registration is
complete."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from e2e.harness import OnshiServer
from e2e.helpers import VirtualAuthenticator, assert_accessible, demo_staff, sign_in
from onshi.identifiers import my_number_check_digit

INSURER = "01130012"
HEADER = (
    "event,symbol,number,branch,kanji_name,kana_name,birth_date,sex,address,my_number,"
    "relationship,copayment,acquired_on,lost_on,loss_reason,notified_on"
)


def _number(n: int) -> str:
    body = f"{n:011d}"
    return body + str(my_number_check_digit(body))


ONE, TWO, THREE = _number(77700000001), _number(77700000002), _number(77700000003)


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


def _check(page: Page, number: str, birth: str) -> None:
    page.goto("/clinic/lookup")
    page.fill("#lookup-insurer_number", INSURER)
    page.fill("#lookup-symbol", "E2E")
    page.fill("#lookup-number", number)
    page.fill("#lookup-branch", "00")
    page.fill("#lookup-birth_date", birth)
    page.get_by_role("button", name="照会する").click()


def _portal_says_complete(onshi_server: OnshiServer, browser: Browser, member: object) -> None:
    """The person now linked to ``member`` enrols on the portal and sees the notice."""
    person = onshi_server.query(
        "SELECT person_id FROM member_links WHERE ended_at IS NULL AND qualification_id = ?",
        member,
    )[0][0]
    output = onshi_server.cli("patient-enrolment-code", "--person-id", str(person))
    url = re.search(r"(http://\S+/me/enrol\?code=\S+)", output)
    assert url is not None, output
    portal = browser.new_page(base_url=onshi_server.origin)
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
    onshi_server: OnshiServer, browser: Browser, page: Page, tmp_path: Path
) -> None:
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

    clinic = browser.new_page(base_url=onshi_server.origin)
    sign_in(clinic, demo_staff("demo-reception"))
    _check(clinic, "900003", "2010-06-07")
    expect(clinic.locator(".lookup-result")).not_to_contain_text("有効")

    # the second operator approves
    second = browser.new_page(base_url=onshi_server.origin)
    sign_in(second, demo_staff("demo-insurer2"))
    second.goto("/insurer/registrations/holds")
    second.get_by_role("button", name="承認する").click()
    expect(second.get_by_role("status")).to_contain_text("承認しました")

    _check(clinic, "900003", "2010-06-07")
    expect(clinic.locator(".lookup-result .badge")).to_have_text("有効")

    _portal_says_complete(onshi_server, browser, member)
    page.goto("/insurer/registrations/deadline")
    expect(page.get_by_text("登録完了を通知した加入者")).to_be_visible()
