"""Rows cross the pipe of the parsing process as plain tuples and come back equal; checked
rows come back with their checks and without their 個人番号."""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Iterable
from datetime import date

from onshi.identifiers import parse_my_number
from onshi.registration.checks import check_chunk
from onshi.registration.matching import Outcome, Resident
from onshi.registration.rows import COLUMNS, MemberEvent, RowError, parse_fields
from onshi.registration.validation import (
    RegistrationSpec,
    checked_from_wire,
    checked_to_wire,
    from_wire,
    to_wire,
)

TODAY = date(2026, 4, 1)
GOOD = ["acquire", "ＡＢ", "12-3", "01", "山田 太郎", "ﾔﾏﾀﾞ ﾀﾛｳ", "1980-04-01", "M",
        "東京都千代田区霞が関1-2-2", "123456789018", "1", "3", "2026-03-01", "", "",
        "2026-03-02"]  # fmt: skip


def test_rows_round_trip() -> None:
    good = parse_fields(2, GOOD, today=TODAY)
    assert isinstance(good, MemberEvent)
    assert good.my_number is not None
    bad = parse_fields(3, ["acquire", *GOOD[1:6], "1980/04/01", *GOOD[7:]], today=TODAY)
    no_number = parse_fields(4, [*GOOD[:9], "", *GOOD[10:]], today=TODAY)
    assert isinstance(bad, RowError)
    for row in (good, bad, no_number):
        wire = to_wire(row)
        assert from_wire(pickle.loads(pickle.dumps(wire))) == row  # noqa: S301


def test_the_spec_skips_committed_rows_and_chunks() -> None:
    lines = [",".join(COLUMNS)] + [",".join([*GOOD[:2], str(n), *GOOD[3:]]) for n in range(5)]
    data = ("\r\n".join(lines) + "\r\n").encode("cp932")
    spec = RegistrationSpec(encoding="cp932", skip=2, today=TODAY, size=2)
    chunks = list(spec.wire_chunks([data[:7], data[7:]]))  # a character cut between pieces
    assert [len(chunk) for chunk in chunks] == [2, 1]
    rows = [from_wire(item) for chunk in chunks for item in chunk]
    assert [row.line_no for row in rows] == [4, 5, 6]
    assert [row.number for row in rows if isinstance(row, MemberEvent)] == ["2", "3", "4"]


class _Residents:
    """Two J-LIS residents: the holder of GOOD's 個人番号 (a variant of its 5 items) and one
    found by birth date and sex."""

    def __init__(self, key: str) -> None:
        from onshi.identity.models import Sex
        from onshi.jlis.gateway import Resident as JlisResident
        from onshi.registration.residents import resident_keys

        self.holder = resident_keys(JlisResident(
            parse_my_number("123456789018").hash(key), "山田", "太郎", "ヤマダ", "タロウ",
            date(1980, 4, 1), Sex.MALE, "東京都千代田区霞が関1丁目2番2号",
        ))  # fmt: skip
        self.other = resident_keys(JlisResident(
            "f" * 64, "佐藤", "花子", "サトウ", "ハナコ", date(1980, 4, 1), Sex.MALE, "大阪府",
        ))  # fmt: skip

    def by_hashes(self, hashes: Iterable[str]) -> dict[str, Resident]:
        return {h: self.holder for h in hashes if h == self.holder.ref.my_number_hash}  # type: ignore[attr-defined]

    def by_birth_and_sex(
        self, keys: Iterable[tuple[date, str]]
    ) -> dict[tuple[date, str], list[Resident]]:
        return {key: [self.other] for key in keys}


def test_checked_rows_round_trip_without_the_my_number() -> None:
    key = "k" * 32
    rows = [
        parse_fields(2, GOOD, today=TODAY),
        parse_fields(3, ["acquire", *GOOD[1:6], "1980/04/01", *GOOD[7:]], today=TODAY),
        parse_fields(4, [*GOOD[:9], "", *GOOD[10:]], today=TODAY),
        parse_fields(5, ["lose", *GOOD[1:13], "2026-03-05", "1", GOOD[15]], today=TODAY),
    ]
    checks = check_chunk(rows, _Residents(key), key)
    assert checks.checks[2].outcome is Outcome.LINKED_CONFIRM
    assert checks.checks[2].resident is not None
    assert checks.checks[4].reason_code == "five_items.mismatch"
    assert 5 in checks.digests
    assert 5 not in checks.checks  # a loss is not checked
    wire = pickle.loads(pickle.dumps(checked_to_wire(rows, checks)))  # noqa: S301
    assert "123456789018" not in repr(wire)
    back, back_checks = checked_from_wire(wire)
    linked = checks.checks[2].resident
    # the prefecture J-LIS left out is read from the address on the way (as a person gets it)
    assert back_checks.checks[2].resident == dataclasses.replace(linked, prefecture_code="13")
    assert back_checks.checks[4].resident is None
    back_checks.checks[2] = dataclasses.replace(back_checks.checks[2], resident=linked)
    assert back_checks == checks
    assert back == [
        row if isinstance(row, RowError) else dataclasses.replace(row, my_number=None)
        for row in rows
    ]
