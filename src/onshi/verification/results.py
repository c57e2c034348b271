"""Result computation (資格有効性 1–5) and the result fields, as pure functions over rows that
are already loaded (:mod:`onshi.verification.queries` loads them set-wise). The card check, the
記号番号 lookup and the batch inquiry (一括照会) all use :func:`compute_result`.

Rules (docs/api/verification.md, 「社会保険・情報システム担当理事連絡協議会」):

- Whether a qualification is in force, ended (lost or expired) or not yet in force is the one
  validity rule of :mod:`onshi.qualification.validity`. Member records that are not shown
  (no current link, or a held / disputed / undone one) never reach this module: the queries
  leave them out (:mod:`onshi.qualification.visibility`), so they count as not registered.
- No candidate row → 4 (該当資格なし). Candidates of more than one person, or more than one
  qualification in force → 5 (複数該当): never a guess.
- One in force → 1 (有効) with that qualification.
- None in force, at least one ended (lost, or past its 有効終了日) → the most recently
  acquired ended one decides: 3 when the person has a qualification acquired after it
  (registered, not yet in force, or found through another 記号番号), else 2. By card the ended
  qualification is shown; by 記号番号 it is not.
- Only qualifications that start in the future → 4.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import jaconv

from onshi.clock import JST
from onshi.identity.models import Sex
from onshi.qualification.models import (
    CopaymentRatio,
    LimitCategory,
    LimitClass,
    LossReason,
    Relationship,
    SpecificDisease,
)
from onshi.qualification.validity import Standing, standing
from onshi.verification.models import ResultCode


@dataclass(frozen=True, slots=True)
class LimitRecord:
    """限度額適用認定 in force."""

    category: LimitCategory
    class_code: LimitClass
    valid_from: date
    valid_to: date | None


@dataclass(frozen=True, slots=True)
class DiseaseRecord:
    """特定疾病療養受療証 in force."""

    disease: SpecificDisease
    monthly_limit_yen: int
    valid_from: date
    valid_to: date | None


@dataclass(frozen=True, slots=True)
class QualificationRecord:
    """One shown member record with its insurer and the linked person's id, as the queries
    load it. The name, kana, sex, birth date and address are the member record's (as the
    insurer registered them)."""

    id: int
    person_id: int
    insurer_number: str
    insurer_name: str
    card_class: str
    symbol: str | None
    number: str
    branch: str | None
    relationship: Relationship
    acquired_on: date
    lost_on: date | None
    loss_reason: LossReason | None
    issued_on: date
    valid_from: date
    valid_to: date | None
    copayment_ratio: CopaymentRatio
    preschool: bool
    elderly_certificate_ratio: CopaymentRatio | None
    elderly_certificate_valid_from: date | None
    elderly_certificate_valid_to: date | None
    name: str
    name_kana: str
    sex: Sex
    birth_date: date
    address: str | None
    postal_code: str | None
    limits: tuple[LimitRecord, ...] = ()
    diseases: tuple[DiseaseRecord, ...] = ()

    def in_force(self, today: date) -> bool:
        return standing(self, today) is Standing.IN_FORCE

    def ended_by(self, today: date) -> bool:
        """Lost or expired on ``today`` (the validity rule)."""
        return standing(self, today).ended


@dataclass(frozen=True, slots=True)
class Computation:
    """The outcome of one check: the code, the person when exactly one was identified, the
    qualification the answer shows (None by 記号番号 unless valid) and the code-3 flag."""

    code: ResultCode
    person_id: int | None
    qualification: QualificationRecord | None
    newer_qualification_exists: bool = False
    #: The qualification the check identified, shown or not (recorded on the event).
    identified: QualificationRecord | None = None


def compute_result(
    candidates: Sequence[QualificationRecord],
    *,
    today: date,
    by_card: bool,
    latest_acquired: Mapping[int, date] | None = None,
) -> Computation:
    """The 資格有効性 of a check.

    ``candidates``: by card, every visible qualification of the card's person; by 記号番号, the
    visible rows matching the keys and birth date. ``latest_acquired``: person id → newest
    ``acquired_on`` among that person's visible qualifications (for code 3 by 記号番号;
    by card it is derived from ``candidates`` when not given).
    """
    if not candidates:
        return Computation(ResultCode.NOT_FOUND, None, None)
    persons = {row.person_id for row in candidates}
    if len(persons) > 1:
        return Computation(ResultCode.MULTIPLE, None, None)
    (person_id,) = persons
    in_force = [row for row in candidates if row.in_force(today)]
    if len(in_force) > 1:
        return Computation(ResultCode.MULTIPLE, person_id, None)
    if in_force:
        return Computation(ResultCode.VALID, person_id, in_force[0], identified=in_force[0])
    ended = [row for row in candidates if row.ended_by(today)]
    if not ended:
        return Computation(ResultCode.NOT_FOUND, person_id, None)
    latest = max(ended, key=lambda row: (row.acquired_on, row.lost_on or today, row.id))
    newest = max(row.acquired_on for row in candidates)
    if latest_acquired is not None:
        newest = max(newest, latest_acquired.get(person_id, newest))
    newer = newest > latest.acquired_on
    code = ResultCode.INVALID_NEWER_EXISTS if newer else ResultCode.INVALID
    return Computation(
        code,
        person_id,
        latest if by_card else None,
        newer_qualification_exists=newer,
        identified=latest,
    )


def half_width_kana(text: str) -> str:
    """カナ氏名 as the national XML carries it: half-width katakana, half-width space."""
    return str(jaconv.z2h(text, kana=True, ascii=True, digit=True))


def jst_instant(value: datetime) -> str:
    """RFC 3339 in Japan time (the contract's convention)."""
    return value.astimezone(JST).isoformat(timespec="seconds")


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def qualification_fields(record: QualificationRecord, *, include_limits: bool) -> dict[str, Any]:
    """Every field of a result (docs/api/verification.md), JSON-ready. ``include_limits`` False
    gives ``limit_certifications: null`` (not provided: no 限度額 consent under the seed rules)."""
    kana = record.name_kana
    elderly = (
        {
            "copayment_ratio": record.elderly_certificate_ratio.value,
            "valid_from": _day(record.elderly_certificate_valid_from),
            "valid_to": _day(record.elderly_certificate_valid_to),
        }
        if record.elderly_certificate_ratio is not None
        else None
    )
    return {
        "card_class": record.card_class,
        "insurer_number": record.insurer_number,
        "insurer_name": record.insurer_name,
        "symbol": record.symbol,
        "number": record.number,
        "branch": record.branch,
        "relationship": record.relationship.value,
        "name": record.name,
        "name_kana": kana,
        "name_kana_half_width": half_width_kana(kana),
        "sex": record.sex.value,
        "birth_date": record.birth_date.isoformat(),
        "address": record.address,
        "postal_code": record.postal_code,
        "acquired_on": record.acquired_on.isoformat(),
        "lost_on": _day(record.lost_on),
        "loss_reason": record.loss_reason.value if record.loss_reason is not None else None,
        "issued_on": record.issued_on.isoformat(),
        "valid_from": record.valid_from.isoformat(),
        "valid_to": _day(record.valid_to),
        "copayment_ratio": record.copayment_ratio.value,
        "preschool": record.preschool,
        "elderly_certificate": elderly,
        "limit_certifications": (
            [
                {
                    "category": limit.category.value,
                    "class_code": limit.class_code.value,
                    "valid_from": limit.valid_from.isoformat(),
                    "valid_to": _day(limit.valid_to),
                }
                for limit in record.limits
            ]
            if include_limits
            else None
        ),
        "specific_diseases": [
            {
                "disease": disease.disease.value,
                "monthly_limit_yen": disease.monthly_limit_yen,
                "valid_from": disease.valid_from.isoformat(),
                "valid_to": _day(disease.valid_to),
            }
            for disease in record.diseases
        ],
    }


@dataclass(frozen=True, slots=True)
class ConsentFlag:
    kind: str
    value: str
    registered_at: datetime
    expires_at: datetime | None


def result_payload(
    computation: Computation,
    *,
    include_limits: bool,
    consents: Sequence[ConsentFlag] = (),
    institution_patient_number: str | None = None,
) -> dict[str, Any]:
    """The JSON body shared by the card answer, the 記号番号 answer and the batch rows
    (without ``verdict``, which the web layer adds in the reader's language pair)."""
    return {
        "result_code": int(computation.code),
        "qualification": (
            qualification_fields(computation.qualification, include_limits=include_limits)
            if computation.qualification is not None
            else None
        ),
        "newer_qualification_exists": computation.newer_qualification_exists,
        "consents": [
            {
                "kind": flag.kind,
                "value": flag.value,
                "registered_at": jst_instant(flag.registered_at),
                "expires_at": jst_instant(flag.expires_at) if flag.expires_at else None,
            }
            for flag in consents
        ],
        "institution_patient_number": institution_patient_number,
    }
