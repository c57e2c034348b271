"""GENERATED institutions (医療機関等) from the plan, with card-reader milestones.

Inside each prefecture × type cell the i-th institution applied by 2023-06-18 when i < applied,
was ready when i < ready and operating when i < operating, so the plan's counts hold exactly
(including a cell where the source counts more ready than applied: those are ready with no
application on record). Dates before 2023-06-18 follow the national application curve of
uptake_history_national.csv (2020-11-08, 2021-03-21, 2023-06-18); after it, most of the rest
progress up to ``as_of``.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from onshi import reference
from onshi.identifiers.checkdigit import luhn_check_digit
from onshi.institutions.models import Founder
from onshi.seeding import names
from onshi.seeding.founders import FounderAssigner
from onshi.seeding.geography import MUNICIPALITIES, TOWNS, pick_municipality, random_address
from onshi.seeding.institution_plan import REFERENCE_DATE, CellPlan
from onshi.seeding.rows import Row, stamp

APPLICATIONS_OPEN = date(2020, 5, 1)
PRE_OPERATION = date(2021, 3, 4)  # プレ運用
FULL_OPERATION = date(2021, 10, 20)  # 本格運用
HOSPITAL_WORDS = ("中央", "総合", "記念", "第一", "南", "北")
DEPARTMENTS = ("内科", "整形外科", "小児科", "眼科", "皮膚科", "耳鼻咽喉科")
SCORE_TABLE = {"hospital": "1", "medical_clinic": "1", "dental_clinic": "3", "pharmacy": "4"}


@dataclass(frozen=True, slots=True)
class InstitutionRef:
    id: int
    name: str
    kind: str
    prefecture_code: str
    operating_on: date | None


def _application_curve(kind: str) -> tuple[list[date], list[float]]:
    """Piecewise-linear share of the 2023-06-18 applicants that had applied by each date."""
    points: dict[tuple[date, str], int] = {
        (p.as_of, p.type): p.value
        for p in reference.uptake_history_national()
        if p.metric == "card_reader_applied"
    }
    from onshi.seeding.institution_plan import national_counts

    final = national_counts()[(kind, "applied")]  # type: ignore[index]
    first = points[(date(2020, 11, 8), kind)] / final
    second_raw = points.get((date(2021, 3, 21), kind))
    if second_raw is None:  # clinics: the total less hospitals and pharmacies, split as in 2020-11
        total = points[(date(2021, 3, 21), "total")]
        rest = (
            total
            - points[(date(2021, 3, 21), "hospital")]
            - points[(date(2021, 3, 21), "pharmacy")]
        )
        med = points[(date(2020, 11, 8), "medical_clinic")]
        den = points[(date(2020, 11, 8), "dental_clinic")]
        second_raw = round(rest * (med if kind == "medical_clinic" else den) / (med + den))
    second = min(0.95, max(first, second_raw / final))
    return (
        [APPLICATIONS_OPEN, date(2020, 11, 8), date(2021, 3, 21), REFERENCE_DATE],
        [0.0, first, second, 1.0],
    )


def _sample_curve(rng: random.Random, curve: tuple[list[date], list[float]]) -> date:
    dates, shares = curve
    u = rng.random()
    k = max(1, bisect.bisect_left(shares, u))
    lo, hi = shares[k - 1], shares[k]
    span = (dates[k] - dates[k - 1]).days
    offset = 0 if hi == lo else int(span * (u - lo) / (hi - lo))
    return dates[k - 1] + timedelta(days=offset)


def _between(rng: random.Random, start: date, end: date) -> date:
    if end <= start:
        return start
    return start + timedelta(days=rng.randint(0, (end - start).days))


class InstitutionGenerator:
    def __init__(
        self, rng: random.Random, as_of: date, founder_rng: random.Random | None = None
    ) -> None:
        self.rng = rng
        # A separate stream, so the founders never shift the other institutions' draws.
        self.founders = FounderAssigner(founder_rng or random.Random(hash(rng.getstate())))
        self.as_of = as_of
        self.next_id = 0
        self.numbers: dict[tuple[str, str, int], int] = {}
        self.curves = {k: _application_curve(k) for k in SCORE_TABLE}
        self.prefecture_names = {p.code: p.name for p in reference.prefectures()}

    def rows(self, cells: tuple[CellPlan, ...]) -> Iterator[tuple[Row, InstitutionRef]]:
        for cell in cells:
            for index in range(cell.facilities):
                yield self._row(cell, index)

    def _code(self, pref: str, kind: str, municipality: int) -> str:
        table = SCORE_TABLE[kind]
        district = municipality + 1
        while True:
            key = (pref, table, district)
            number = self.numbers.get(key, 0) + 1
            if number <= 9999:
                self.numbers[key] = number
                break
            district += 10
        payload = f"{pref}{table}{district:02d}{number:04d}"
        return f"{payload}{luhn_check_digit(payload)}"

    def _name(self, kind: str, municipality: str) -> str:
        rng = self.rng
        family = names.family_names().pick(rng)[0]
        place = municipality.removesuffix("市").removesuffix("区")
        if kind == "hospital":
            return f"{rng.choice((place, family))}{rng.choice(HOSPITAL_WORDS)}病院"
        if kind == "medical_clinic":
            return f"{family}{rng.choice(DEPARTMENTS)}クリニック"
        if kind == "dental_clinic":
            return f"{family}歯科{rng.choice(('医院', 'クリニック'))}"
        stem = rng.choice(("さくら", "ひまわり", "みどり", "あおば", place))
        return f"{stem}薬局 {rng.choice(TOWNS)}店"

    def _row(self, cell: CellPlan, index: int) -> tuple[Row, InstitutionRef]:
        rng, as_of = self.rng, self.as_of
        pref = cell.prefecture_code
        municipality = pick_municipality(rng, pref)
        address = random_address(rng, pref, self.prefecture_names[pref], municipality)
        applied = ready = operating = None
        applied_by_ref = index < cell.applied
        ready_by_ref = index < cell.ready
        operating_by_ref = index < cell.operating
        exempt = cell.facilities - index <= cell.exempt and not applied_by_ref
        founder: Founder | None = None
        if cell.kind == "hospital":
            founder = self.founders.founder(applied_by_ref)
        if applied_by_ref:
            applied = _sample_curve(rng, self.curves[cell.kind])
            if founder is not None:
                applied = self.founders.applied_on(
                    founder, applied, APPLICATIONS_OPEN, REFERENCE_DATE
                )
        elif rng.random() < (0.2 if exempt else 0.7):
            applied = _between(rng, REFERENCE_DATE + timedelta(days=1), as_of)
        if ready_by_ref:
            floor = max(applied or PRE_OPERATION, PRE_OPERATION)
            ready = min(floor + timedelta(days=rng.randint(20, 500)), REFERENCE_DATE)
            ready = max(ready, floor) if floor <= REFERENCE_DATE else REFERENCE_DATE
        elif applied is not None and rng.random() < 0.85:
            ready = _between(rng, max(applied, REFERENCE_DATE + timedelta(days=1)), as_of)
        if operating_by_ref:
            floor = max(ready or FULL_OPERATION, PRE_OPERATION)
            if floor > REFERENCE_DATE:
                floor = ready or REFERENCE_DATE
            operating = min(floor + timedelta(days=rng.randint(0, 150)), REFERENCE_DATE)
        elif ready is not None and rng.random() < 0.9:
            operating = _between(rng, max(ready, REFERENCE_DATE + timedelta(days=1)), as_of)
        self.next_id += 1
        name = self._name(cell.kind, MUNICIPALITIES[pref][municipality][0])
        first = applied or ready or date(2019, 4, 1)
        row: Row = {
            "id": self.next_id,
            "code": self._code(pref, cell.kind, municipality),
            "name": name,
            "kind": cell.kind,
            "prefecture_code": pref,
            "address": address.render(),
            "under_mandate": not exempt,
            "card_reader_applied_on": applied,
            "ready_on": ready,
            "operating_on": operating,
            "founder": founder.value if founder is not None else None,
            "created_at": stamp(min(first, date(2019, 4, 1))),
        }
        return row, InstitutionRef(self.next_id, name, cell.kind, pref, operating)
