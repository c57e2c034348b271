"""Typed rows of the vendored reference tables (see SOURCES.md beside this file)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

#: The four facility types of the published uptake and usage tables.
FacilityType = Literal["hospital", "medical_clinic", "dental_clinic", "pharmacy"]
#: ``type`` of the national tables (uptake_national, usage): a facility type or ``total``.
NationalType = Literal["hospital", "medical_clinic", "dental_clinic", "pharmacy", "total"]
#: ``type`` column of uptake_history_national.csv: a facility type, all facilities, or people.
HistoryType = Literal["hospital", "medical_clinic", "dental_clinic", "pharmacy", "total", "people"]

#: ``prefecture`` value of the 合計 row in uptake_by_prefecture_2023-06-18.csv.
NATIONAL_TOTAL = "national_total"


@dataclass(frozen=True, slots=True)
class Prefecture:
    """One of the 47 prefectures. ``code`` is the two-digit JIS X 0401 code ("01"–"47")."""

    code: str
    name: str
    short_name: str
    romaji: str
    region: str


@dataclass(frozen=True, slots=True)
class PrefectureUptake:
    """Card-reader uptake of one facility type in one prefecture (or ``national_total``).

    ``None`` means the cell is not in the source table (lost in PDF extraction).
    """

    prefecture: str
    type: FacilityType
    facilities: int | None
    card_reader_applied: int | None
    ready: int | None
    operating: int | None

    @property
    def is_national_total(self) -> bool:
        return self.prefecture == NATIONAL_TOTAL


@dataclass(frozen=True, slots=True)
class NationalUptake:
    """National facility count and published rates (percent) for one facility type or ``total``."""

    type: NationalType
    facilities: int
    applied_rate_all: Decimal | None
    applied_rate_mandatory: Decimal | None
    ready_rate_all: Decimal | None
    ready_rate_mandatory: Decimal | None
    operating_rate_all: Decimal | None
    operating_rate_mandatory: Decimal | None


@dataclass(frozen=True, slots=True)
class OperatingRateRanking:
    """A top-5 or bottom-5 prefecture (short name) by 運用開始 rate (percent)."""

    type: FacilityType
    rank: int
    prefecture: str
    operating_rate: Decimal


@dataclass(frozen=True, slots=True)
class FacilityUsage:
    """One month (2023-05) of checks and data views for one facility type or ``total``."""

    type: NationalType
    checks_total: int
    checks_by_card: int
    checks_by_insurance_card: int
    batch_inquiries: int
    views_health_checkup: int
    views_drug: int
    views_clinical: int


@dataclass(frozen=True, slots=True)
class UptakeHistoryPoint:
    """A national figure at a point in time; ``rate`` is the published percent."""

    as_of: date
    metric: str
    type: HistoryType
    value: int
    denominator: int | None
    rate: Decimal | None


@dataclass(frozen=True, slots=True)
class MisregistrationPeriod:
    """Wrong My Number registrations found in a period (「オンライン資格確認について」)."""

    period_start: date
    period_end: date
    wrong_my_number_registrations: int
    of_which_data_viewed: int
    qualification_checks_in_period: int


@dataclass(frozen=True, slots=True)
class FounderUptake:
    """Card-reader applications of public hospitals by 開設者 (founder code, rate in percent)."""

    founder: str
    applied_rate: Decimal
