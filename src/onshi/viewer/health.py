"""The 特定健診 side-by-side table: one row per measure, one column per checkup, each value
marked against its reference range (:mod:`onshi.reference.health_checks`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from onshi.records.models import HealthCheckRecord
from onshi.reference.health_checks import Judgement, ReferenceRange, judge, range_for

#: (message key under ``portal.health.``, record attribute, unit) in the order of the 健診票.
MEASURES: Final = (
    ("height", "height_cm", "cm"),
    ("weight", "weight_kg", "kg"),
    ("bmi", "bmi", "kg/m²"),
    ("waist", "waist_cm", "cm"),
    ("systolic", "systolic", "mmHg"),
    ("diastolic", "diastolic", "mmHg"),
    ("hba1c", "hba1c", "%"),
    ("fasting_glucose", "fasting_glucose", "mg/dL"),
    ("triglycerides", "triglycerides", "mg/dL"),
    ("hdl", "hdl", "mg/dL"),
    ("ldl", "ldl", "mg/dL"),
    ("ast", "ast", "U/L"),
    ("alt", "alt", "U/L"),
    ("ggt", "ggt", "U/L"),
    ("urine_glucose", "urine_glucose", ""),
    ("urine_protein", "urine_protein", ""),
)

#: Questionnaire answers (yes / no).
QUESTIONS: Final = ("on_bp_medication", "on_glucose_medication", "on_lipid_medication", "smoker")


@dataclass(frozen=True)
class Cell:
    value: float | int | str | None
    judgement: Judgement | None

    @property
    def outside(self) -> bool:
        return self.judgement in {Judgement.GUIDANCE, Judgement.REFERRAL}


@dataclass(frozen=True)
class MeasureRow:
    key: str
    unit: str
    reference: ReferenceRange | None
    cells: tuple[Cell, ...]


def measure_rows(records: Sequence[HealthCheckRecord], sex: str | None) -> list[MeasureRow]:
    rows = []
    for key, attribute, unit in MEASURES:
        reference = range_for(attribute, sex)
        cells = []
        for record in records:
            value = getattr(record, attribute)
            cells.append(Cell(value, judge(reference, value)))
        rows.append(MeasureRow(key, unit, reference, tuple(cells)))
    return rows
