"""Validation of the intake file's rows and the file-level checks (encoding, exact header)."""

from __future__ import annotations

import io
from datetime import date

import pytest

from onshi.registration.catalogue import bilingual
from onshi.registration.errors import RegistrationFileError
from onshi.registration.reader import open_records, parsed
from onshi.registration.rows import (
    COLUMNS,
    JAPANESE_HEADER,
    Event,
    MemberEvent,
    RowError,
    header_columns,
    parse_fields,
    parse_mapping,
)

TODAY = date(2026, 12, 1)
GOOD = {
    "event": "acquire",
    "symbol": "12",
    "number": "345",
    "branch": "01",
    "kanji_name": "山田 太郎",
    "kana_name": "ヤマダ タロウ",
    "birth_date": "1980-04-01",
    "sex": "M",
    "address": "東京都千代田区霞が関1-2-2",
    "my_number": "",
    "relationship": "1",
    "copayment": "3",
    "acquired_on": "2026-11-20",
    "lost_on": "",
    "loss_reason": "",
    "notified_on": "2026-11-25",
}


def _row(**changes: str) -> MemberEvent | RowError:
    values = {**GOOD, **changes}
    return parse_fields(2, [values[name] for name in COLUMNS], today=TODAY)


def test_a_good_row() -> None:
    row = _row()
    assert isinstance(row, MemberEvent)
    assert (row.event, row.symbol, row.number, row.branch) == (Event.ACQUIRE, "12", "345", "01")
    assert (row.sex, row.relationship, row.copayment) == ("1", "1", "030")
    assert row.notified_on == date(2026, 11, 25)
    assert row.my_number is None


def test_my_number_is_hidden_from_repr() -> None:
    row = _row(my_number="1234 5678 9018")
    assert isinstance(row, MemberEvent)
    assert row.my_number is not None
    assert "123456789018" not in repr(row)


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"event": "join"}, "event", "registration.row.event.choice"),
        ({"event": ""}, "event", "registration.row.event.required"),
        ({"number": ""}, "number", "number.required"),
        ({"branch": "1"}, "branch", "branch.format"),
        ({"kanji_name": ""}, "kanji_name", "registration.row.kanji_name.required"),
        ({"kana_name": "YAMADA"}, "kana_name", "registration.row.kana_name.characters"),
        ({"birth_date": "1980/04/01"}, "birth_date", "registration.row.date_format"),
        ({"birth_date": "19800401"}, "birth_date", "registration.row.date_format"),
        ({"birth_date": "1980-02-30"}, "birth_date", "registration.row.date_invalid"),
        ({"birth_date": "2027-01-01"}, "birth_date", "registration.row.future"),
        ({"sex": "X"}, "sex", "registration.row.sex.choice"),
        ({"my_number": "123456789012"}, "my_number", "my_number.check_digit"),
        ({"my_number": "12345"}, "my_number", "my_number.length"),
        ({"relationship": "3"}, "relationship", "registration.row.relationship.choice"),
        ({"copayment": "4"}, "copayment", "registration.row.copayment.choice"),
        ({"copayment": ""}, "copayment", "registration.row.copayment.required"),
        ({"acquired_on": ""}, "acquired_on", "registration.row.acquired_on.required"),
        ({"lost_on": "2026-11-01"}, "lost_on", "registration.row.lost_on.order"),
        ({"notified_on": ""}, "notified_on", "registration.row.notified_on.required"),
        ({"notified_on": "2026-12-02"}, "notified_on", "registration.row.future"),
        ({"address": "東" * 300}, "address", "registration.row.too_long"),
    ],
)
def test_rejected_rows_name_the_field_and_the_rule(
    changes: dict[str, str], field: str, code: str
) -> None:
    row = _row(**changes)
    assert isinstance(row, RowError)
    assert (row.line_no, row.field, row.code) == (2, field, code)
    message = bilingual(row.code, row.params)
    ja, en = message.split(" / ", 1)
    assert ja
    assert en != ja
    assert "{" not in message


def test_the_my_number_is_never_echoed_in_an_error() -> None:
    row = _row(my_number="123456789012")
    assert isinstance(row, RowError)
    assert "123456789012" not in bilingual(row.code, row.params)


def test_a_missing_address_is_not_rejected_but_left_to_the_check() -> None:
    row = _row(address="")
    assert isinstance(row, MemberEvent)
    assert row.address == ""


def test_lose_needs_the_loss_not_the_five_items() -> None:
    row = _row(event="lose", kanji_name="", kana_name="", birth_date="", sex="", relationship="",
               copayment="", acquired_on="", lost_on="2026-11-30", loss_reason="3")  # fmt: skip
    assert isinstance(row, MemberEvent)
    assert (row.lost_on, row.loss_reason) == (date(2026, 11, 30), "03")
    missing = _row(event="lose", lost_on="")
    assert isinstance(missing, RowError)
    assert missing.code == "registration.row.lost_on.required"


def test_column_count() -> None:
    row = parse_fields(5, ["acquire"], today=TODAY)
    assert isinstance(row, RowError)
    assert (row.field, row.code) == ("*", "registration.row.column_count")


def test_json_mapping() -> None:
    assert isinstance(parse_mapping(1, GOOD, today=TODAY), MemberEvent)
    unknown = parse_mapping(1, {**GOOD, "extra": "x"}, today=TODAY)
    assert isinstance(unknown, RowError)
    assert unknown.code == "registration.row.unknown_field"
    typed = parse_mapping(1, {**GOOD, "copayment": 3}, today=TODAY)
    assert isinstance(typed, RowError)
    assert (typed.field, typed.code) == ("copayment", "registration.row.field_type")


def test_headers() -> None:
    assert header_columns(list(COLUMNS)) == COLUMNS
    assert header_columns(list(JAPANESE_HEADER)) == COLUMNS
    assert header_columns(["\ufeffevent", *COLUMNS[1:]]) == COLUMNS
    assert header_columns(list(reversed(COLUMNS))) is None
    assert header_columns(list(COLUMNS[:-1])) is None
    assert header_columns([*JAPANESE_HEADER[:2], *COLUMNS[2:]]) is None


def _csv(header: tuple[str, ...], *rows: dict[str, str]) -> str:
    lines = [",".join(header)] + [",".join(row[name] for name in COLUMNS) for row in rows]
    return "\r\n".join(lines) + "\r\n"


@pytest.mark.parametrize(
    ("encoding", "header"),
    [("utf-8", COLUMNS), ("utf-8-sig", COLUMNS), ("cp932", JAPANESE_HEADER),
     ("utf-8-sig", JAPANESE_HEADER)],
)  # fmt: skip
def test_reader_encodings_and_headers(encoding: str, header: tuple[str, ...]) -> None:
    data = _csv(header, GOOD, {**GOOD, "sex": "?"}).encode(encoding)
    _, records = open_records(io.BytesIO(data))
    rows = list(parsed(records, today=TODAY))
    assert [type(row) for row in rows] == [MemberEvent, RowError]
    assert [row.line_no for row in rows] == [2, 3]
    first = rows[0]
    assert isinstance(first, MemberEvent)
    assert first.kanji_name == "山田 太郎"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "registration.file.empty"),
        (b"\x00\x01\x02", "registration.file.binary"),
        (b"a,b,c\r\n1,2,3\r\n", "registration.file.header"),
        (b"event\x81\x20,x\r\n", "registration.file.encoding"),
    ],
)
def test_reader_rejects_the_file(data: bytes, code: str) -> None:
    with pytest.raises(RegistrationFileError) as caught:
        open_records(io.BytesIO(data))
    assert caught.value.code == code
    assert "{" not in bilingual(
        caught.value.code, {k: str(v) for k, v in caught.value.params.items()}
    )
