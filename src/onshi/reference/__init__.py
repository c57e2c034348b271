"""Vendored public reference data (prefectures, published uptake and usage figures).

The CSV files live inside this package (so they ship in the wheel); SOURCES.md says where each
figure comes from. Every loader reads its file on first call and caches the result; nothing is
read at import time. Blank cells become ``None``.
"""

from __future__ import annotations

from datetime import date
from functools import cache

from onshi.reference import _csv
from onshi.reference._csv import ReferenceDataError
from onshi.reference.types import (
    NATIONAL_TOTAL,
    FacilityType,
    FacilityUsage,
    FounderUptake,
    HistoryType,
    MisregistrationPeriod,
    NationalType,
    NationalUptake,
    OperatingRateRanking,
    Prefecture,
    PrefectureUptake,
    UptakeHistoryPoint,
)

__all__ = [
    "FOUNDER_UPTAKE_DATE",
    "NATIONAL_TOTAL",
    "FacilityType",
    "FacilityUsage",
    "FounderUptake",
    "HistoryType",
    "MisregistrationPeriod",
    "NationalType",
    "NationalUptake",
    "OperatingRateRanking",
    "Prefecture",
    "PrefectureUptake",
    "ReferenceDataError",
    "UptakeHistoryPoint",
    "facility_usage",
    "founder_uptake",
    "misregistration_periods",
    "national_uptake",
    "operating_rate_rankings",
    "prefecture",
    "prefecture_by_short_name",
    "prefectures",
    "uptake_by_prefecture",
    "uptake_history_national",
]


@cache
def prefectures() -> tuple[Prefecture, ...]:
    """The 47 prefectures in JIS code order."""
    return tuple(
        Prefecture(
            code=_csv.text(row, "code"),
            name=_csv.text(row, "name"),
            short_name=_csv.text(row, "short_name"),
            romaji=_csv.text(row, "romaji"),
            region=_csv.text(row, "region"),
        )
        for row in _csv.read_rows(
            "prefectures.csv", ("code", "name", "short_name", "romaji", "region")
        )
    )


@cache
def _by_code() -> dict[str, Prefecture]:
    return {p.code: p for p in prefectures()}


@cache
def _by_short_name() -> dict[str, Prefecture]:
    return {p.short_name: p for p in prefectures()}


def prefecture(code: str) -> Prefecture | None:
    """The prefecture with the two-digit JIS code ``code`` ("13" → 東京都), or ``None``."""
    return _by_code().get(code)


def prefecture_by_short_name(short_name: str) -> Prefecture | None:
    """The prefecture named as in the published tables ("東京", "北海道"), or ``None``."""
    return _by_short_name().get(short_name)


@cache
def uptake_by_prefecture() -> tuple[PrefectureUptake, ...]:
    """Uptake per prefecture and facility type on 2023-06-18; last come ``national_total`` rows."""
    columns = ("prefecture", "type", "facilities", "card_reader_applied", "ready", "operating")
    return tuple(
        PrefectureUptake(
            prefecture=_csv.text(row, "prefecture"),
            type=_csv.facility_type(row),
            facilities=_csv.optional_int(row, "facilities"),
            card_reader_applied=_csv.optional_int(row, "card_reader_applied"),
            ready=_csv.optional_int(row, "ready"),
            operating=_csv.optional_int(row, "operating"),
        )
        for row in _csv.read_rows("uptake_by_prefecture_2023-06-18.csv", columns)
    )


@cache
def national_uptake() -> tuple[NationalUptake, ...]:
    """National facility counts and rates per facility type (and ``total``) on 2023-06-18."""
    rates = (
        "applied_rate_all",
        "applied_rate_mandatory",
        "ready_rate_all",
        "ready_rate_mandatory",
        "operating_rate_all",
        "operating_rate_mandatory",
    )
    return tuple(
        NationalUptake(
            type=_csv.national_type(row),
            facilities=_csv.required_int(row, "facilities"),
            applied_rate_all=_csv.optional_decimal(row, "applied_rate_all"),
            applied_rate_mandatory=_csv.optional_decimal(row, "applied_rate_mandatory"),
            ready_rate_all=_csv.optional_decimal(row, "ready_rate_all"),
            ready_rate_mandatory=_csv.optional_decimal(row, "ready_rate_mandatory"),
            operating_rate_all=_csv.optional_decimal(row, "operating_rate_all"),
            operating_rate_mandatory=_csv.optional_decimal(row, "operating_rate_mandatory"),
        )
        for row in _csv.read_rows("uptake_national_2023-06-18.csv", ("type", "facilities", *rates))
    )


@cache
def operating_rate_rankings() -> tuple[OperatingRateRanking, ...]:
    """Top-5 and bottom-5 prefectures by operating rate per facility type on 2023-06-18."""
    return tuple(
        OperatingRateRanking(
            type=_csv.facility_type(row),
            rank=_csv.required_int(row, "rank"),
            prefecture=_csv.text(row, "prefecture"),
            operating_rate=_csv.required_decimal(row, "operating_rate"),
        )
        for row in _csv.read_rows(
            "operating_rate_rankings_2023-06-18.csv",
            ("type", "rank", "prefecture", "operating_rate"),
        )
    )


@cache
def facility_usage() -> tuple[FacilityUsage, ...]:
    """Checks and views per facility type (and ``total``) in 2023-05."""
    counts = (
        "checks_total",
        "checks_by_card",
        "checks_by_insurance_card",
        "batch_inquiries",
        "views_health_checkup",
        "views_drug",
        "views_clinical",
    )
    return tuple(
        FacilityUsage(
            type=_csv.national_type(row),
            checks_total=_csv.required_int(row, "checks_total"),
            checks_by_card=_csv.required_int(row, "checks_by_card"),
            checks_by_insurance_card=_csv.required_int(row, "checks_by_insurance_card"),
            batch_inquiries=_csv.required_int(row, "batch_inquiries"),
            views_health_checkup=_csv.required_int(row, "views_health_checkup"),
            views_drug=_csv.required_int(row, "views_drug"),
            views_clinical=_csv.required_int(row, "views_clinical"),
        )
        for row in _csv.read_rows("usage_by_facility_type_2023-05.csv", ("type", *counts))
    )


@cache
def uptake_history_national() -> tuple[UptakeHistoryPoint, ...]:
    """National uptake figures at published points in time, oldest first."""
    return tuple(
        UptakeHistoryPoint(
            as_of=_csv.required_date(row, "as_of"),
            metric=_csv.text(row, "metric"),
            type=_csv.history_type(row),
            value=_csv.required_int(row, "value"),
            denominator=_csv.optional_int(row, "denominator"),
            rate=_csv.optional_decimal(row, "rate"),
        )
        for row in _csv.read_rows(
            "uptake_history_national.csv",
            ("as_of", "metric", "type", "value", "denominator", "rate"),
        )
    )


@cache
def misregistration_periods() -> tuple[MisregistrationPeriod, ...]:
    """Wrong My Number registrations found per period (「オンライン資格確認について」)."""
    return tuple(
        MisregistrationPeriod(
            period_start=_csv.required_date(row, "period_start"),
            period_end=_csv.required_date(row, "period_end"),
            wrong_my_number_registrations=_csv.required_int(row, "wrong_my_number_registrations"),
            of_which_data_viewed=_csv.required_int(row, "of_which_data_viewed"),
            qualification_checks_in_period=_csv.required_int(row, "qualification_checks_in_period"),
        )
        for row in _csv.read_rows(
            "misregistration_cases.csv",
            (
                "period_start",
                "period_end",
                "wrong_my_number_registrations",
                "of_which_data_viewed",
                "qualification_checks_in_period",
            ),
        )
    )


#: The day of the published applications of public hospitals by founder.
FOUNDER_UPTAKE_DATE = date(2021, 3, 21)


@cache
def founder_uptake() -> tuple[FounderUptake, ...]:
    """Card-reader application rates of public hospitals per 開設者 on 2021-03-21."""
    return tuple(
        FounderUptake(
            founder=_csv.text(row, "founder"),
            applied_rate=_csv.required_decimal(row, "applied_rate"),
        )
        for row in _csv.read_rows(
            "public_hospitals_by_founder_2021-03-21.csv", ("founder", "applied_rate")
        )
    )
