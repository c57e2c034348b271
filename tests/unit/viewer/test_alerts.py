"""Viewer alerts: duplicate therapy across institutions and contraindicated pairs, over
overlapping periods (pure; no database)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from onshi.reference.drugs import contraindicated_pairs, ingredients
from onshi.viewer.alerts import RECENT_DAYS, AlertKind, alerts_for

TODAY = date(2026, 4, 1)
SIMVASTATIN = "2189011F1041"
ITRACONAZOLE_CAPSULE = "6290004M1029"
ITRACONAZOLE_TABLET = "6290004F1070"
ROSUVASTATIN = "2189017F1022"
CLARITHROMYCIN = "6149003F2020"
UNKNOWN = "9999999F1011"


@dataclass(frozen=True)
class Row:
    id: int
    drug_code: str
    dispensed_on: date
    days: int | None
    institution_name: str
    drug_name: str = "薬"
    prescribing_institution_name: str | None = None


def _row(n: int, code: str, start: date, days: int | None, where: str, **extra: object) -> Row:
    return Row(n, code, start, days, where, **extra)  # type: ignore[arg-type]


START = TODAY - timedelta(days=45)


@pytest.mark.parametrize(
    ("second_start", "second_days", "first_days", "expected"),
    [
        (START + timedelta(days=10), 28, 28, 1),  # overlapping
        (START + timedelta(days=27), 28, 28, 1),  # overlapping by the last day
        (START + timedelta(days=28), 28, 28, 0),  # adjacent: the refill day
        (START + timedelta(days=40), 28, 28, 0),  # later
        (START, None, None, 1),  # no days: the same dispensing day
        (START + timedelta(days=1), None, None, 0),  # no days: next day
        (START + timedelta(days=5), None, 28, 1),  # no days inside the other's period
    ],
)
def test_duplicate_therapy_needs_overlapping_periods(
    second_start: date, second_days: int | None, first_days: int | None, expected: int
) -> None:
    records = [
        _row(1, ROSUVASTATIN, START, first_days, "A内科"),
        _row(2, ROSUVASTATIN, second_start, second_days, "B医院"),
    ]
    alerts = alerts_for(records, today=TODAY)
    assert len(alerts) == expected
    if expected:
        (alert,) = alerts
        assert alert.kind is AlertKind.DUPLICATE
        assert alert.ingredients == ("ロスバスタチン",)
        assert {alert.first.prescriber, alert.second.prescriber} == {"A内科", "B医院"}
        assert alert.first.record_id == 1
        assert alert.source is None


def test_the_same_institution_is_not_a_duplicate() -> None:
    records = [
        _row(1, ROSUVASTATIN, START, 28, "A内科"),
        _row(2, ROSUVASTATIN, START + timedelta(days=3), 28, " A内科 "),
    ]
    assert alerts_for(records, today=TODAY) == []


def test_the_prescriber_counts_not_the_dispensing_pharmacy() -> None:
    same_prescriber = [
        _row(1, ROSUVASTATIN, START, 28, "X薬局", prescribing_institution_name="A内科"),
        _row(2, ROSUVASTATIN, START + timedelta(days=3), 28, "Y薬局",
             prescribing_institution_name="A内科"),
    ]  # fmt: skip
    assert alerts_for(same_prescriber, today=TODAY) == []
    two_prescribers = [
        _row(1, ROSUVASTATIN, START, 28, "X薬局", prescribing_institution_name="A内科"),
        _row(2, ROSUVASTATIN, START + timedelta(days=3), 28, "X薬局",
             prescribing_institution_name="B医院"),
    ]  # fmt: skip
    (alert,) = alerts_for(two_prescribers, today=TODAY)
    assert alert.first.institution_name == "X薬局"
    assert (alert.first.prescriber, alert.second.prescriber) == ("A内科", "B医院")


def test_forms_of_one_ingredient_are_one_ingredient() -> None:
    records = [
        _row(1, ITRACONAZOLE_CAPSULE, START, 14, "A皮膚科"),
        _row(2, ITRACONAZOLE_TABLET, START + timedelta(days=2), 14, "B医院"),
    ]
    (alert,) = alerts_for(records, today=TODAY)
    assert alert.ingredients == ("イトラコナゾール",)


def test_an_unknown_prefix_is_its_own_ingredient() -> None:
    records = [
        _row(1, UNKNOWN, START, 14, "A", drug_name="未知錠"),
        _row(2, UNKNOWN[:7] + "F2999", START, 14, "B", drug_name="未知錠20"),
        _row(3, "9999998F1011", START, 14, "C", drug_name="別の薬"),
    ]
    (alert,) = alerts_for(records, today=TODAY)
    assert alert.ingredients == ("未知錠",)
    assert {alert.first.record_id, alert.second.record_id} == {1, 2}


def _code_of(name: str) -> str:
    prefix = next(p for p, ingredient in ingredients().items() if ingredient.name == name)
    return f"{prefix}F1000"


@pytest.mark.parametrize(
    "pair", contraindicated_pairs(), ids=lambda p: f"{p.ingredient_a}-{p.ingredient_b}"
)
@pytest.mark.parametrize("reverse", [False, True], ids=["listed order", "reversed"])
def test_each_contraindicated_pair_in_both_orders(pair: object, reverse: bool) -> None:
    from onshi.reference.drugs import ContraindicatedPair

    assert isinstance(pair, ContraindicatedPair)
    names = [pair.ingredient_a, pair.ingredient_b]
    if reverse:
        names.reverse()
    records = [
        _row(1, _code_of(names[0]), START, 14, "A"),
        _row(2, _code_of(names[1]), START + timedelta(days=3), 7, "A"),  # same institution too
    ]
    (alert,) = alerts_for(records, today=TODAY)
    assert alert.kind is AlertKind.CONTRAINDICATED
    assert alert.ingredients == (pair.ingredient_a, pair.ingredient_b)  # the list's order
    assert alert.reason_ja == pair.reason_ja
    assert alert.source is not None
    assert "添付文書" in alert.source
    assert alert.checked_on == pair.checked_on
    assert alert.overlap_from == START + timedelta(days=3)
    assert alert.overlap_until == START + timedelta(days=9)


def test_a_contraindicated_pair_must_overlap() -> None:
    records = [
        _row(1, SIMVASTATIN, START, 14, "A"),
        _row(2, ITRACONAZOLE_CAPSULE, START + timedelta(days=14), 7, "B"),
    ]
    assert alerts_for(records, today=TODAY) == []


def test_not_every_statin_is_contraindicated_with_itraconazole() -> None:
    records = [
        _row(1, ROSUVASTATIN, START, 28, "A"),
        _row(2, ITRACONAZOLE_CAPSULE, START, 7, "B"),
        _row(3, CLARITHROMYCIN, START, 7, "C"),
    ]
    assert alerts_for(records, today=TODAY) == []


def test_old_overlaps_are_left_out_and_recent_ones_kept() -> None:
    old = TODAY - timedelta(days=RECENT_DAYS + 40)
    records = [
        _row(1, SIMVASTATIN, old, 28, "A"),
        _row(2, ITRACONAZOLE_CAPSULE, old, 7, "B"),
    ]
    assert alerts_for(records, today=TODAY) == []
    edge = TODAY - timedelta(days=RECENT_DAYS)
    still = [
        _row(1, SIMVASTATIN, edge - timedelta(days=10), 28, "A"),
        _row(2, ITRACONAZOLE_CAPSULE, edge - timedelta(days=10), 28, "B"),
    ]
    assert len(alerts_for(still, today=TODAY)) == 1


def test_repeated_refills_give_one_alert_naming_the_newest_records() -> None:
    records = [
        _row(n, ROSUVASTATIN, START - timedelta(days=56 - 28 * k), 28, where)
        for n, (k, where) in enumerate(
            [(0, "A"), (1, "A"), (2, "A"), (0, "B"), (1, "B"), (2, "B")], start=1
        )
    ]
    (alert,) = alerts_for(records, today=TODAY)
    assert {alert.first.record_id, alert.second.record_id} == {3, 6}


def test_contraindications_come_first() -> None:
    records = [
        _row(1, ROSUVASTATIN, START, 28, "A"),
        _row(2, ROSUVASTATIN, START + timedelta(days=5), 28, "B"),
        _row(3, SIMVASTATIN, START - timedelta(days=30), 14, "C"),
        _row(4, ITRACONAZOLE_CAPSULE, START - timedelta(days=30), 14, "D"),
    ]
    kinds = [alert.kind for alert in alerts_for(records, today=TODAY)]
    assert kinds == [AlertKind.CONTRAINDICATED, AlertKind.DUPLICATE]


def test_the_shipped_lists_are_consistent() -> None:
    known = {ingredient.name for ingredient in ingredients().values()}
    for pair in contraindicated_pairs():
        assert {pair.ingredient_a, pair.ingredient_b} <= known
        assert pair.source
        assert pair.checked_on.year >= 2026
    assert all(len(prefix) == 7 for prefix in ingredients())
