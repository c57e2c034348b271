"""The vendored reference tables load with their published figures."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from importlib import resources

import pytest

from onshi import reference
from onshi.reference import NationalType


def test_prefectures() -> None:
    prefectures = reference.prefectures()
    assert len(prefectures) == 47
    assert [p.code for p in prefectures] == [f"{n:02d}" for n in range(1, 48)]
    tokyo = reference.prefecture("13")
    assert tokyo is not None
    assert (tokyo.name, tokyo.short_name, tokyo.romaji) == ("東京都", "東京", "Tokyo")
    assert reference.prefecture("01") == reference.prefecture_by_short_name("北海道")
    okinawa = reference.prefecture("47")
    assert okinawa is not None
    assert okinawa.name == "沖縄県"


@pytest.mark.parametrize("code", ["00", "48", "1", "013", ""])
def test_unknown_prefecture(code: str) -> None:
    assert reference.prefecture(code) is None


def test_loaders_are_cached() -> None:
    assert reference.prefectures() is reference.prefectures()
    assert reference.national_uptake() is reference.national_uptake()


def test_national_uptake_figures() -> None:
    rows = {row.type: row for row in reference.national_uptake()}
    assert rows["hospital"].facilities == 8170
    assert rows["hospital"].operating_rate_all == Decimal("87.9")
    assert rows["pharmacy"].facilities == 61530
    assert rows["total"].facilities == 229368
    parts = sum(rows[t].facilities for t in ("hospital", "medical_clinic", "dental_clinic"))
    assert parts + rows["pharmacy"].facilities == rows["total"].facilities


def test_uptake_by_prefecture_blank_cells_are_none() -> None:
    rows = {(r.prefecture, r.type): r for r in reference.uptake_by_prefecture()}
    hokkaido_hospital = rows[("北海道", "hospital")]
    assert (hokkaido_hospital.facilities, hokkaido_hospital.operating) == (538, 480)
    assert rows[("北海道", "medical_clinic")].operating is None
    total = rows[(reference.NATIONAL_TOTAL, "hospital")]
    assert total.is_national_total
    assert total.facilities == 8170
    assert total.operating == 7178
    assert rows[(reference.NATIONAL_TOTAL, "dental_clinic")].ready is None


def test_uptake_by_prefecture_joins_on_short_name() -> None:
    names = {r.prefecture for r in reference.uptake_by_prefecture() if not r.is_national_total}
    assert len(names) == 47
    assert all(reference.prefecture_by_short_name(name) is not None for name in names)


def test_hospital_columns_by_prefecture_add_up_to_the_national_total() -> None:
    hospitals = [r for r in reference.uptake_by_prefecture() if r.type == "hospital"]
    total = next(r for r in hospitals if r.is_national_total)
    rows = [r for r in hospitals if not r.is_national_total]
    for column in ("facilities", "card_reader_applied", "ready", "operating"):
        values = [getattr(r, column) for r in rows]
        assert None not in values, column
        assert sum(values) == getattr(total, column), column


def test_operating_rate_rankings() -> None:
    rankings = reference.operating_rate_rankings()
    assert len(rankings) == 40
    first = next(r for r in rankings if r.type == "hospital" and r.rank == 1)
    assert (first.prefecture, first.operating_rate) == ("新潟", Decimal("98.3"))
    last = next(r for r in rankings if r.type == "hospital" and r.rank == 47)
    assert (last.prefecture, last.operating_rate) == ("東京", Decimal("79.7"))
    assert all(reference.prefecture_by_short_name(r.prefecture) for r in rankings)


def test_facility_usage() -> None:
    rows = {row.type: row for row in reference.facility_usage()}
    hospital = rows["hospital"]
    assert hospital.checks_total == 7565672
    for row in rows.values():
        assert row.checks_by_card + row.checks_by_insurance_card == row.checks_total
    kinds: tuple[NationalType, ...] = ("hospital", "medical_clinic", "dental_clinic", "pharmacy")
    assert sum(rows[k].checks_total for k in kinds) == rows["total"].checks_total == 141999941


def test_uptake_history() -> None:
    points = reference.uptake_history_national()
    first = points[0]
    assert first.as_of == date(2020, 11, 8)
    assert (first.metric, first.type, first.value, first.denominator) == (
        "card_reader_applied",
        "hospital",
        1640,
        8284,
    )
    registrations = [p for p in points if p.metric == "insurance_use_registrations"]
    latest = max(registrations, key=lambda p: p.as_of)
    assert latest.value == 64088852
    assert latest.denominator is None
    assert latest.rate == Decimal("69.4")


def test_misregistration_totals_match_seed_004() -> None:
    periods = reference.misregistration_periods()
    assert sum(p.wrong_my_number_registrations for p in periods) == 7372
    assert sum(p.of_which_data_viewed for p in periods) == 10
    assert sum(p.qualification_checks_in_period for p in periods) == 1_332_000_000
    assert all(p.period_start <= p.period_end for p in periods)


@pytest.mark.parametrize(
    "name",
    [
        "prefectures.csv",
        "uptake_by_prefecture_2023-06-18.csv",
        "uptake_national_2023-06-18.csv",
        "operating_rate_rankings_2023-06-18.csv",
        "usage_by_facility_type_2023-05.csv",
        "uptake_history_national.csv",
        "misregistration_cases.csv",
        "SOURCES.md",
    ],
)
def test_data_files_are_package_resources(name: str) -> None:
    assert resources.files("onshi.reference").joinpath(name).is_file()


def test_malformed_header_is_reported() -> None:
    from onshi.reference import _csv

    with pytest.raises(reference.ReferenceDataError, match="header"):
        list(_csv.read_rows("prefectures.csv", ("code", "name")))
