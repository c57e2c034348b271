"""Alerts shown when the viewer opens a patient's drug history (docs/viewer-alerts.md).

Pure: :func:`alerts_for` takes the drug records the viewer already loaded (anything with the
attributes of :class:`DrugRow`; a ``DrugRecord`` works) and returns the alerts; nothing is read
or written.

* **Duplicate therapy (重複投薬)**: the same ingredient prescribed by two different
  institutions for overlapping periods.
* **Contraindicated combination (併用禁忌)**: two ingredients of the shipped list
  (:mod:`onshi.reference.drugs`) taken in overlapping periods, whoever prescribed them.

Rules:

* A record's period is ``dispensed_on`` to ``dispensed_on + days`` (end exclusive): 28 days from
  1 April cover 1–28 April, so a refill on 29 April is adjacent, not overlapping. A record
  without ``days`` (頓服, external use dispensed by quantity) covers its dispensing day only.
* The ingredient is the YJ code's first 7 characters: named by the ingredient table when the
  prefix is in it, else the prefix itself (the same code prefix is the same ingredient and
  route), named by the record's drug name.
* The prescriber is ``prescribing_institution_name`` when the record has one (a pharmacy's
  dispensing), else ``institution_name`` (the institution that prescribed and dispensed).
  Names are compared after trimming white space.
* Only periods that reach into the last :data:`RECENT_DAYS` days (or are still running) count:
  an overlap of two years ago calls for no action today.
* One alert per kind, ingredient(s) and pair of prescribers (the newest overlapping records are
  named), newest first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Final, Protocol

from onshi.reference.drugs import (
    YJ_PREFIX_LENGTH,
    contraindicated_ingredients,
    contraindication,
    ingredient_of,
)

#: Periods ending before ``today - RECENT_DAYS`` are left out (the 電子処方箋 retention).
RECENT_DAYS: Final = 100


class DrugRow(Protocol):
    """What the alerts read from a drug record. ``prescribing_institution_name`` is read when
    present (``getattr``): rows without it count their own institution as the prescriber."""

    @property
    def id(self) -> int: ...
    @property
    def drug_code(self) -> str: ...
    @property
    def drug_name(self) -> str: ...
    @property
    def dispensed_on(self) -> date: ...
    @property
    def days(self) -> int | None: ...
    @property
    def institution_name(self) -> str: ...


class AlertKind(StrEnum):
    DUPLICATE = "duplicate"  # 重複投薬
    CONTRAINDICATED = "contraindicated"  # 併用禁忌


@dataclass(frozen=True, slots=True)
class AlertDrug:
    """One of the two records an alert names."""

    record_id: int
    drug_code: str
    drug_name: str
    ingredient: str
    ingredient_en: str
    prescriber: str
    institution_name: str
    dispensed_on: date
    until: date  # last day of the period (inclusive)
    days: int | None


@dataclass(frozen=True, slots=True)
class Alert:
    kind: AlertKind
    first: AlertDrug  # the earlier-dispensed record
    second: AlertDrug
    ingredients: tuple[str, ...]  # Japanese names; one for a duplicate, two for a pair
    ingredients_en: tuple[str, ...]
    overlap_from: date
    overlap_until: date  # inclusive
    # Contraindications: the reason and its source (the package inserts), else None.
    reason_ja: str | None = None
    reason_en: str | None = None
    source: str | None = None
    label_revision: str | None = None
    checked_on: date | None = None


@dataclass(frozen=True, slots=True)
class _Course:
    record_id: int
    key: str  # ingredient identity: its Japanese name, or the YJ prefix when unknown
    drug: AlertDrug
    start: date
    end: date  # exclusive


def _prescriber(row: DrugRow) -> str:
    name = getattr(row, "prescribing_institution_name", None) or row.institution_name
    return " ".join(str(name).split())


def _course(row: DrugRow) -> _Course:
    days = row.days if row.days is not None and row.days > 0 else None
    end = row.dispensed_on + timedelta(days=days or 1)
    ingredient = ingredient_of(row.drug_code)
    prefix = row.drug_code[:YJ_PREFIX_LENGTH]
    name = ingredient.name if ingredient else row.drug_name
    name_en = ingredient.name_en if ingredient else row.drug_name
    drug = AlertDrug(
        record_id=row.id,
        drug_code=row.drug_code,
        drug_name=row.drug_name,
        ingredient=name,
        ingredient_en=name_en,
        prescriber=_prescriber(row),
        institution_name=row.institution_name,
        dispensed_on=row.dispensed_on,
        until=end - timedelta(days=1),
        days=days,
    )
    return _Course(row.id, ingredient.name if ingredient else prefix, drug, row.dispensed_on, end)


def _overlap(a: _Course, b: _Course) -> tuple[date, date] | None:
    start, end = max(a.start, b.start), min(a.end, b.end)
    return (start, end - timedelta(days=1)) if start < end else None


def _ordered(a: _Course, b: _Course) -> tuple[_Course, _Course]:
    return (a, b) if (a.start, a.record_id) <= (b.start, b.record_id) else (b, a)


def _alert(a: _Course, b: _Course) -> tuple[tuple[object, ...], Alert] | None:
    window = _overlap(a, b)
    if window is None:
        return None
    first, second = _ordered(a, b)
    if a.key == b.key:
        if a.drug.prescriber == b.drug.prescriber:
            return None  # one institution's own continuing or changed prescription
        group = (AlertKind.DUPLICATE, a.key, *sorted((a.drug.prescriber, b.drug.prescriber)))
        return group, Alert(
            kind=AlertKind.DUPLICATE,
            first=first.drug,
            second=second.drug,
            ingredients=(a.drug.ingredient,),
            ingredients_en=(a.drug.ingredient_en,),
            overlap_from=window[0],
            overlap_until=window[1],
        )
    pair = contraindication(a.key, b.key)
    if pair is None:
        return None
    # Name the pair in the list's order (the drug whose insert states it first).
    if first.key != pair.ingredient_a:
        first, second = second, first
    group = (AlertKind.CONTRAINDICATED, pair.ingredient_a, pair.ingredient_b)
    return group, Alert(
        kind=AlertKind.CONTRAINDICATED,
        first=first.drug,
        second=second.drug,
        ingredients=(first.drug.ingredient, second.drug.ingredient),
        ingredients_en=(first.drug.ingredient_en, second.drug.ingredient_en),
        overlap_from=window[0],
        overlap_until=window[1],
        reason_ja=pair.reason_ja,
        reason_en=pair.reason_en,
        source=pair.source,
        label_revision=pair.label_revision,
        checked_on=pair.checked_on,
    )


def _recent(records: Iterable[DrugRow], today: date) -> list[_Course]:
    """The courses of the records whose period reaches into the last RECENT_DAYS days (and
    that were dispensed by today); the others are never built."""
    since = today - timedelta(days=RECENT_DAYS)
    courses = []
    for row in records:
        if row.dispensed_on > today:
            continue
        days = row.days if row.days is not None and row.days > 0 else 1
        if row.dispensed_on + timedelta(days=days) > since:
            courses.append(_course(row))
    return courses


def _overlapping_pairs(courses: list[_Course]) -> Iterable[tuple[_Course, _Course]]:
    """Every pair of courses whose periods overlap, by a sweep over the starts (no pair of
    disjoint courses is ever looked at)."""
    running: list[_Course] = []
    for course in sorted(courses, key=lambda c: (c.start, c.record_id)):
        running = [other for other in running if other.end > course.start]
        for other in running:
            yield other, course
        running.append(course)


def alerts_for(records: Sequence[DrugRow], *, today: date) -> list[Alert]:
    """The duplicate-therapy and contraindication alerts of ``records`` (one patient's drug
    history), contraindications first, then newest overlap first."""
    courses = _recent(records, today)
    listed = contraindicated_ingredients()
    best: dict[tuple[object, ...], Alert] = {}
    for a, b in _overlapping_pairs(courses):
        if a.key != b.key and (a.key not in listed or b.key not in listed):
            continue
        found = _alert(a, b)
        if found is None:
            continue
        group, alert = found
        kept = best.get(group)
        if kept is None or (alert.overlap_until, alert.second.record_id) > (
            kept.overlap_until,
            kept.second.record_id,
        ):
            best[group] = alert
    return sorted(
        best.values(),
        key=lambda alert: (
            alert.kind is not AlertKind.CONTRAINDICATED,
            -alert.overlap_until.toordinal(),
            alert.ingredients,
        ),
    )
