"""``onshi simulated-jlis load`` and ``onshi dev-pki issue|renew|revoke`` naming a resident,
against a migrated database (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onshi.audit.models import AuditEvent
from onshi.cli import main
from onshi.identifiers.my_number import my_number_hash
from onshi.jlis.loading import HEADER_TEXT
from onshi.jlis.models import SimulatedJlisCertificate, SimulatedJlisResident
from onshi.jlis.simulated import SimulatedJlis
from onshi.pki.devpki import DevelopmentPKI
from tests.unit.jlis.test_loading import number

KEY = "m" * 40


@pytest.fixture
def cli_env(db: Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("ONSHI_ENV", "test")
    monkeypatch.setenv("ONSHI_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("ONSHI_MY_NUMBER_KEY", KEY)
    monkeypatch.setenv("ONSHI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(
        "ONSHI_DATABASE_URL", db.get_bind().url.render_as_string(hide_password=False)
    )
    return tmp_path


def _write(path: Path, lines: list[str], *, bom: bool = False) -> Path:
    path.write_bytes(("\ufeff" if bom else "").encode() + "\n".join(lines).encode() + b"\n")
    return path


def _residents(db: Session) -> list[SimulatedJlisResident]:
    db.expire_all()
    return list(db.scalars(select(SimulatedJlisResident).order_by(SimulatedJlisResident.id)))


GOOD = [
    HEADER_TEXT,
    f"{number(11)},山田 太郎,ヤマダ タロウ,1980-05-17,M,東京都千代田区霞が関1-2-2",
    f"{number(12)},佐藤\u3000花子,ｻﾄｳ ﾊﾅｺ,1990-01-31,F,大阪府大阪市北区梅田1-1",
]


def test_load_a_good_file_then_again_then_a_move(
    db: Session, cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(cli_env / "residents.csv", GOOD, bom=True)
    assert main(["simulated-jlis", "load", str(path)]) == 0
    out = capsys.readouterr().out
    assert "2行を読み込みました: 新規 2、更新 0、変更なし 0" in out
    assert "Read 2 line(s): 2 added, 0 updated, 0 unchanged" in out
    residents = _residents(db)
    assert [(r.family_name, r.given_name, r.given_name_kana) for r in residents] == [
        ("山田", "太郎", "タロウ"),
        ("佐藤", "花子", "ハナコ"),
    ]
    assert residents[0].my_number_hash == my_number_hash(KEY, number(11))
    assert [r.prefecture_code for r in residents] == ["13", "27"]

    assert main(["simulated-jlis", "load", str(path)]) == 0  # idempotent
    assert "0 added, 0 updated, 2 unchanged" in capsys.readouterr().out
    moved = [*GOOD[:2], GOOD[2].replace("大阪府大阪市北区梅田1-1", "京都府京都市左京区1")]
    assert main(["simulated-jlis", "load", str(_write(cli_env / "moved.csv", moved))]) == 0
    assert "0 added, 1 updated, 1 unchanged" in capsys.readouterr().out
    assert [r.prefecture_code for r in _residents(db)] == ["13", "26"]
    actions = db.scalars(select(AuditEvent.action)).all()
    assert actions == ["jlis.residents_loaded"] * 3


def test_bad_rows_are_reported_by_line_and_nothing_is_loaded(
    db: Session, cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [
        *GOOD,
        f"{number(13)},鈴木 一郎,スズキ イチロウ,1975-13-01,M,東京都",
        f"{number(11)},山田 太郎,ヤマダ タロウ,1980-05-17,M,東京都",
        "123456789012,高橋 次郎,タカハシ ジロウ,1975-01-01,X,東京都",
    ]
    assert main(["simulated-jlis", "load", str(_write(cli_env / "bad.csv", lines))]) == 1
    err = capsys.readouterr().err
    assert "4行目: 生年月日（birth_date）は YYYY-MM-DD" in err
    assert "Line 4: the birth date (birth_date) must be a date written YYYY-MM-DD" in err
    assert "Line 5: the same Individual Number is already on line 2" in err
    assert "6行目: 個人番号（マイナンバー）の検査用数字" in err
    assert "Line 6: the sex (sex) must be M (male) or F (female) (read: X)" in err
    assert "4 line(s) have errors, so nothing was loaded." in err
    assert "4行に誤りがあるため、何も登録していません。" in err
    assert _residents(db) == []
    assert db.scalar(select(func.count(AuditEvent.id))) == 0


def test_wrong_header_and_missing_file(
    db: Session, cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = ["my_number,name,kana_name,birth_date,sex,address", *GOOD[1:]]
    assert main(["simulated-jlis", "load", str(_write(cli_env / "h.csv", lines))]) == 1
    err = capsys.readouterr().err
    assert "1行目の見出し行が正しくありません" in err
    assert f"The header must be {HEADER_TEXT}" in err
    assert main(["simulated-jlis", "load", str(cli_env / "missing.csv")]) == 1
    assert "The file cannot be read" in capsys.readouterr().err
    assert _residents(db) == []


def test_dev_pki_issue_renew_revoke_keep_jlis_in_step(
    db: Session, cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulated-jlis", "load", str(_write(cli_env / "r.csv", GOOD))]) == 0
    assert main(["dev-pki", "init"]) == 0
    capsys.readouterr()
    first, second = _residents(db)

    assert main(["dev-pki", "issue", "--resident-my-number", number(11)]) == 0
    card_id = capsys.readouterr().out.split()[0]
    assert main(["dev-pki", "issue", "--resident-id", str(second.id), "--person", "p2"]) == 0
    other_card = capsys.readouterr().out.split()[0]
    pki = DevelopmentPKI(cli_env / "dev-pki")
    card = pki.card(card_id)
    assert card.person == f"jlis-resident-{first.id}"
    assert card.birth_date == first.birth_date
    issuer = pki.ca_certificate().subject.rfc4514_string()

    def holder(serial: int) -> int | None:
        found = SimulatedJlis(db).holder_of_certificate(
            issuer=issuer,
            serial=f"{serial:X}",
            fingerprint=pki.card(card_id).fingerprint,
            at=card.not_before,
        )
        return None if found is None else _resident_id(db, found.my_number_hash)

    db.expire_all()
    assert holder(card.serial_number) == first.id
    assert pki.card(other_card).person == "p2"

    assert main(["dev-pki", "renew", "--card", card_id, "--issued-on", "2026-04-02"]) == 0
    assert f"resident={first.id}" in capsys.readouterr().out
    db.expire_all()
    records = db.scalars(
        select(SimulatedJlisCertificate)
        .where(SimulatedJlisCertificate.resident_id == first.id)
        .order_by(SimulatedJlisCertificate.id)
    ).all()
    assert [r.revocation_reason for r in records] == ["superseded", None]
    renewed = pki.card(card_id)
    assert holder(renewed.serial_number) == first.id

    assert main(["dev-pki", "revoke", "--card", card_id]) == 0
    db.expire_all()
    assert holder(renewed.serial_number) is None

    assert main(["dev-pki", "issue", "--resident-id", "999999"]) == 1
    assert "no such resident" in capsys.readouterr().err
    assert main(["dev-pki", "issue", "--resident-my-number", "123456789012"]) == 2
    assert (
        main(["dev-pki", "issue", "--resident-id", str(first.id), "--birth-date", "2000-01-01"])
        == 2
    )
    assert main(["dev-pki", "issue"]) == 2
    # a card J-LIS does not know (for tests): --person and --birth-date, as before
    assert main(["dev-pki", "issue", "--person", "x", "--birth-date", "1980-01-01"]) == 0
    assert db.scalar(select(func.count(SimulatedJlisCertificate.id))) == 3


def _resident_id(db: Session, number_hash: str) -> int | None:
    return db.scalar(
        select(SimulatedJlisResident.id).where(SimulatedJlisResident.my_number_hash == number_hash)
    )
