"""GENERATED monthly history of use (``usage_monthly`` rows with origin ``generated``) and of the
card's insurance-use registrations (``card_registrations_monthly``), for the months before the
window of real generated events (``seeding.activity``).

Billions of events are never written: each month is one row per prefecture and facility type,
at the same scale as the real events (``usage_model``). A type's national count for the month is
split between prefectures in proportion to that type's institutions operating there at the end of
the month (largest remainder), so the history follows the generated rollout.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from datetime import date, timedelta

from onshi import reference
from onshi.seeding import usage_model
from onshi.seeding.institution_plan import apportion
from onshi.seeding.institutions import InstitutionRef
from onshi.seeding.rows import Row

FIRST_REGISTRATION_MONTH = date(2020, 11, 1)


class OperatingIndex:
    """Per type and prefecture, the sorted operating dates of the generated institutions."""

    def __init__(self, refs: Iterable[InstitutionRef]) -> None:
        self.codes = [p.code for p in reference.prefectures()]
        self.dates: dict[tuple[str, str], list[date]] = {}
        self.counts: dict[tuple[str, str], int] = {}
        for ref in refs:
            key = (ref.kind, ref.prefecture_code)
            self.counts[key] = self.counts.get(key, 0) + 1
            if ref.operating_on is not None:
                self.dates.setdefault(key, []).append(ref.operating_on)
        for values in self.dates.values():
            values.sort()

    def weights(self, kind: str, day: date) -> list[float]:
        operating = [
            float(bisect.bisect_right(self.dates.get((kind, c), []), day)) for c in self.codes
        ]
        if sum(operating) > 0:
            return operating
        return [float(self.counts.get((kind, c), 0)) for c in self.codes]


def usage_rows(index: OperatingIndex, scale: float, first: date, until: date) -> Iterator[Row]:
    """Rows for the months from ``first`` up to (not including) ``until``'s month."""
    may: dict[str, reference.FacilityUsage] = {row.type: row for row in reference.facility_usage()}
    for month in usage_model.months(first, until - timedelta(days=1)):
        if month >= usage_model.month_start(until):
            break
        ratio = usage_model.volume_ratio(month)
        month_end = usage_model.next_month(month) - timedelta(days=1)
        for kind in usage_model.TYPES:
            base, mix = may[kind], usage_model.mix()[kind]
            checks = round(scale * base.checks_total * ratio)
            card = round(checks * usage_model.card_share(kind, month))
            totals = {
                "checks_by_card": card,
                "checks_by_insurance_card": checks - card,
                "batch_inquiries": round(scale * base.batch_inquiries * ratio),
                **{
                    f"views_{name}": round(card * share)
                    for name, share in mix.views_per_card.items()
                },
            }
            weights = index.weights(kind, month_end)
            split = {name: apportion(value, weights) for name, value in totals.items()}
            for i, code in enumerate(index.codes):
                yield {
                    "month": month,
                    "prefecture_code": code,
                    "kind": kind,
                    **{name: values[i] for name, values in split.items()},
                    "origin": "generated",
                }


def registration_rows(people_scale: float, as_of: date) -> Iterator[Row]:
    """National registrations and cards issued at each month end (as-of for its own month)."""
    for month in usage_model.months(FIRST_REGISTRATION_MONTH, as_of):
        end = min(usage_model.next_month(month) - timedelta(days=1), as_of)
        registrations, issued = usage_model.registrations_at(end)
        yield {
            "month": month,
            "generated_registrations": round(registrations * people_scale),
            "system_registrations": 0,
            "cards_issued": round(issued * people_scale),
        }
