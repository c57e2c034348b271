"""Reading a SIMULATED J-LIS resident file: each rule of the format, by line, ja and en."""

from __future__ import annotations

from datetime import date

import pytest

from onshi.identifiers.checkdigit import my_number_check_digit
from onshi.identifiers.my_number import my_number_hash
from onshi.identity.models import Sex
from onshi.jlis.loading import (
    HEADER_TEXT,
    message,
    parse_resident_file,
    prefecture_of,
    split_name,
)

KEY = "k" * 40
TODAY = date(2026, 4, 1)


def number(n: int) -> str:
    payload = f"{n:011d}"
    return f"{payload}{my_number_check_digit(payload)}"


def parse(text: str, *, bom: bool = False) -> tuple[list, list[str]]:
    data = ("\ufeff" if bom else "") + text
    parsed = parse_resident_file(data.encode("utf-8"), my_number_key=KEY, today=TODAY)
    return parsed.rows, [p.text("en") for p in parsed.problems]


def test_a_good_file_with_bom_crlf_and_width_variants() -> None:
    text = (
        f"{HEADER_TEXT}\r\n"
        f"{number(1)},山田 太郎,ﾔﾏﾀﾞ ﾀﾛｳ,1980-05-17,M,東京都千代田区霞が関1-2-2\r\n"
        f"{number(2)},佐藤\u3000花子,サトウ\u3000ハナコ,1990-01-31,F,千代田区霞が関一丁目\r\n"
        "\r\n"
        f'"{number(3)}",李,リ,2000-02-29,F,"大阪府大阪市北区梅田1-1"\r\n'
    )
    rows, problems = parse(text, bom=True)
    assert problems == []
    assert [row.line for row in rows] == [2, 3, 5]
    first, second, third = rows
    assert first.my_number_hash == my_number_hash(KEY, number(1))
    assert (first.family_name, first.given_name) == ("山田", "太郎")
    assert (first.family_name_kana, first.given_name_kana) == ("ヤマダ", "タロウ")
    assert (first.sex, first.prefecture_code) == (Sex.MALE, "13")
    assert (second.given_name, second.given_name_kana, second.sex) == ("花子", "ハナコ", Sex.FEMALE)
    assert second.prefecture_code is None  # the address does not begin with a prefecture
    assert (third.family_name, third.given_name, third.prefecture_code) == ("李", "", "27")
    assert "太郎" not in repr(first)


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            f"{number(1)},山田 太郎,ヤマダ タロウ,1980-05-17,M",
            "wrong number of fields (6 needed, read 5)",
        ),
        ("123456789012,山田 太郎,ヤマダ タロウ,1980-05-17,M,東京都", "check digit"),
        ("12345,山田 太郎,ヤマダ タロウ,1980-05-17,M,東京都", "must have 12 digits"),
        (f"{number(1)},,ヤマダ タロウ,1980-05-17,M,東京都", "kanji name (kanji_name) is empty"),
        (f"{number(1)},山田 太郎,やまだ たろう,1980-05-17,M,東京都", 'katakana (found "や")'),
        (f"{number(1)},山田 太郎,,1980-05-17,M,東京都", "kana name (kana_name) is empty"),
        (
            f"{number(1)},山田 太郎,ヤマダ タロウ,1980/05/17,M,東京都",
            "YYYY-MM-DD (read: 1980/05/17)",
        ),
        (
            f"{number(1)},山田 太郎,ヤマダ タロウ,1980-02-30,M,東京都",
            "YYYY-MM-DD (read: 1980-02-30)",
        ),
        (f"{number(1)},山田 太郎,ヤマダ タロウ,2026-04-02,M,東京都", "in the future (2026-04-02)"),
        (
            f"{number(1)},山田 太郎,ヤマダ タロウ,1980-05-17,男,東京都",
            "M (male) or F (female) (read: 男)",
        ),
        (f"{number(1)},山田 太郎,ヤマダ タロウ,1980-05-17,m,東京都", "(read: m)"),
        (f"{number(1)},山田 太郎,ヤマダ タロウ,1980-05-17,M,", "address (address) is empty"),
        (f"{number(1)},山田 太郎,ヤマダ タロウ,1980-05-17,M,{'あ' * 257}", "256 characters"),
        (f"{number(1)},{'山' * 65} 太郎,ヤマダ タロウ,1980-05-17,M,東京都", "too long"),
    ],
)
def test_each_bad_field_is_named_with_its_line(row: str, expected: str) -> None:
    good = f"{number(9)},山田 花子,ヤマダ ハナコ,1980-05-17,F,東京都千代田区"
    rows, problems = parse(f"{HEADER_TEXT}\n{good}\n{row}\n")
    assert len(problems) == 1, problems
    assert problems[0].startswith("Line 3: ")
    assert expected in problems[0]
    assert [r.line for r in rows] == [2]  # the caller loads nothing when problems is not empty


def test_every_bad_line_is_reported_not_just_the_first() -> None:
    text = (
        f"{HEADER_TEXT}\n"
        f"{number(1)},山田 太郎,ヤマダ タロウ,1980-05-17,X,東京都\n"
        f"{number(2)},山田 次郎,ヤマダ ジロウ,1980-05-17,M,東京都\n"
        f"{number(1)},山田 三郎,ヤマダ サブロウ,1980-05-17,M,東京都\n"
        f"{number(3)},山田 四郎,ヤマダ シロウ,19800517,Q,東京都\n"
    )
    _rows, problems = parse(text)
    assert [p.split(":")[0] for p in problems] == ["Line 2", "Line 5", "Line 5"]
    text = text.replace(",X,", ",M,")
    _rows, problems = parse(text)
    assert problems[0] == (
        "Line 4: the same Individual Number is already on line 2 "
        "(each number may appear once in a file)"
    )


@pytest.mark.parametrize(
    "header",
    [
        "my_number,kanji_name,kana_name,birth_date,sex",
        "My_Number,kanji_name,kana_name,birth_date,sex,address",
        "kanji_name,my_number,kana_name,birth_date,sex,address",
        "個人番号,漢字氏名,カナ氏名,生年月日,性別,住所",
    ],
)
def test_the_header_must_be_exact(header: str) -> None:
    rows, problems = parse(f"{header}\n{number(1)},山田 太郎,ヤマダ タロウ,1980-05-17,M,東京都\n")
    assert rows == []
    assert len(problems) == 1
    assert problems[0].startswith("Line 1 is not the expected header")


def test_encoding_empty_and_broken_csv() -> None:
    cp932 = f"{HEADER_TEXT}\n{number(1)},山田 太郎,ヤマダ タロウ,1980-05-17,M,東京都\n"
    parsed = parse_resident_file(cp932.encode("cp932"), my_number_key=KEY, today=TODAY)
    assert [p.text("en") for p in parsed.problems] == [
        "Line 2: characters that are not UTF-8 (save the file as UTF-8)"
    ]
    assert parsed.problems[0].text("ja").startswith("2行目: UTF-8として読めない")
    _rows, problems = parse("  \n")
    assert problems[0].startswith("The file is empty")
    _rows, problems = parse(f'{HEADER_TEXT}\n{number(1)},"山田 太郎"x,ヤマダ,1980-05-17,M,東京都\n')
    assert problems[0].startswith("Line 2: not readable as CSV")


def test_line_numbers_count_physical_lines_with_quoted_newlines() -> None:
    text = (
        f"{HEADER_TEXT}\n"
        f'{number(1)},山田 太郎,ヤマダ タロウ,1980-05-17,M,"東京都千代田区\n霞が関1-2-2"\n'
        f"{number(2)},山田 次郎,ヤマダ ジロウ,1980-05-17,Z,東京都\n"
    )
    _rows, problems = parse(text)
    assert problems == ["Line 4: the sex (sex) must be M (male) or F (female) (read: Z)"]


def test_my_number_message_in_both_languages_never_echoes_the_number() -> None:
    bad = "123456789012"
    parsed = parse_resident_file(
        f"{HEADER_TEXT}\n{bad},山田 太郎,ヤマダ タロウ,1980-05-17,M,東京都\n".encode(),
        my_number_key=KEY,
        today=TODAY,
    )
    (problem,) = parsed.problems
    assert problem.text("ja").startswith("2行目: 個人番号（マイナンバー）の検査用数字")
    assert problem.text("en").startswith("Line 2: The Individual Number")
    assert bad not in problem.text("ja") + problem.text("en")


def test_name_split_and_prefecture() -> None:
    assert split_name("山田 太郎") == ("山田", "太郎")
    assert split_name("山田\u3000太郎 一") == ("山田", "太郎 一")
    assert split_name(" 山田 ") == ("山田", "")
    assert prefecture_of("北海道札幌市") == "01"
    assert prefecture_of("京都府京都市") == "26"
    assert prefecture_of("東京都") == "13"
    assert prefecture_of("千代田区") is None


def test_messages_have_the_same_keys_and_placeholders_in_both_languages() -> None:
    from onshi.jlis.loading import _catalogue

    catalogue = _catalogue()
    assert catalogue["ja"].keys() == catalogue["en"].keys()
    for code in catalogue["ja"]:
        ja = sorted(part.split("}")[0] for part in catalogue["ja"][code].split("{")[1:])
        en = sorted(part.split("}")[0] for part in catalogue["en"][code].split("{")[1:])
        assert ja == en, code
    assert (
        message("jlis.load.refused", "en", count=2)
        == "2 line(s) have errors, so nothing was loaded."
    )
