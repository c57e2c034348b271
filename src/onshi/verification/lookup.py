"""照会 by 保険者番号 + 記号 + 番号 (+ 枝番) + 生年月日 (paper card or 資格確認書).

The answer never shows qualification details of an invalid result: unlike the card, a 記号番号
check cannot show the latest lost qualification (「社会保険・情報システム担当理事連絡協議会」).
枝番 may be omitted (cards issued before 2021); the answer carries the registered one. Every
lookup records a verification event (method ``symbol_number``) and, when a qualification is
shown, an access-log row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from onshi.audit.models import AccessPurpose, ActorKind, DataKind
from onshi.audit.services import record_data_access
from onshi.clock import Clock, today_jst
from onshi.errors import DomainError
from onshi.identifiers import (
    normalize_branch,
    number_key,
    parse_insurer_number,
    symbol_key,
)
from onshi.settings import ConsentRules
from onshi.verification.models import ResultCode, VerificationEvent, VerificationMethod
from onshi.verification.patient_numbers import register_patient_number
from onshi.verification.queries import (
    LookupKey,
    latest_acquired,
    patient_numbers,
    symbol_number_matches,
)
from onshi.verification.results import Computation, compute_result, result_payload
from onshi.verification.schemas import PersonIdentity, parse_birth_date, parse_patient_number

FIELDS = ("insurer_number", "symbol", "number", "branch", "birth_date")


def validate_identity(identity: PersonIdentity) -> tuple[LookupKey | None, dict[str, DomainError]]:
    """Every field checked on its own: the key, or the error of each bad field (for forms)."""
    problems: dict[str, DomainError] = {}
    values: dict[str, Any] = {}
    checks: dict[str, Any] = {
        "insurer_number": lambda: parse_insurer_number(identity.insurer_number).value,
        "symbol": lambda: symbol_key(identity.symbol),
        "number": lambda: number_key(identity.number),
        "branch": lambda: normalize_branch(identity.branch),
        "birth_date": lambda: parse_birth_date(identity.birth_date),
    }
    for field, check in checks.items():
        try:
            values[field] = check()
        except DomainError as exc:
            problems[field] = exc
    if problems:
        return None, problems
    return LookupKey(
        insurer_number=values["insurer_number"],
        symbol_key=values["symbol"],
        number_key=values["number"],
        branch=values["branch"],
        birth_date=values["birth_date"],
    ), {}


def lookup_key(identity: PersonIdentity) -> LookupKey:
    """The key, or the first field's error (API: one error per answer)."""
    key, problems = validate_identity(identity)
    if key is None:
        raise next(problems[field] for field in FIELDS if field in problems)
    return key


@dataclass(frozen=True)
class LookupOutcome:
    computation: Computation
    payload: dict[str, Any]
    verification_event_id: int
    #: A 照会番号 was given but no single person was identified, so it was not registered.
    patient_number_ignored: bool = False


def lookup_by_symbol_number(
    db: Session,
    clock: Clock,
    rules: ConsentRules,
    *,
    institution_id: int,
    identity: PersonIdentity,
    patient_number: Any = None,
    staff_account_id: int | None = None,
    device_id: int | None = None,
) -> LookupOutcome:
    """Check a 記号番号. Bad input raises (IdentifierError / VerificationError) and writes
    nothing. ``staff_account_id`` (clinic page) or ``device_id`` (API) names who asked."""
    if (staff_account_id is None) == (device_id is None):
        raise ValueError("a lookup is made by exactly one of a staff member or a device")
    key = lookup_key(identity)
    number = parse_patient_number(patient_number)
    today = today_jst(clock)
    candidates = symbol_number_matches(db, [key], today=today)[key]
    persons = {row.person_id for row in candidates}
    newest = latest_acquired(db, persons) if len(persons) == 1 else {}
    computation = compute_result(candidates, today=today, by_card=False, latest_acquired=newest)
    person_id = computation.person_id if computation.code is not ResultCode.MULTIPLE else None
    actor_kind, actor_id = (
        (ActorKind.STAFF, staff_account_id) if staff_account_id else (ActorKind.DEVICE, device_id)
    )
    ignored = False
    if number is not None:
        if person_id is not None and computation.code is not ResultCode.NOT_FOUND:
            register_patient_number(
                db,
                clock,
                institution_id=institution_id,
                person_id=person_id,
                number=number,
                actor_kind=actor_kind,
                actor_id=actor_id,
            )
        else:
            ignored = True
    event = VerificationEvent(
        institution_id=institution_id,
        device_id=device_id,
        staff_account_id=staff_account_id,
        method=VerificationMethod.SYMBOL_NUMBER,
        person_id=person_id,
        qualification_id=computation.identified.id if computation.identified else None,
        result_code=int(computation.code),
        error_code=None,
        occurred_at=clock.now(),
    )
    db.add(event)
    db.flush()
    if computation.qualification is not None and person_id is not None:
        record_data_access(
            db,
            clock,
            person_id=person_id,
            data_kind=DataKind.QUALIFICATION,
            # Allowed by the 記号番号 lookup at the institution, not by a consent at a reader.
            purpose=AccessPurpose.SYMBOL_NUMBER,
            institution_id=institution_id,
            staff_account_id=staff_account_id,
            verification_event_id=event.id,
        )
    tag = (
        patient_numbers(db, institution_id=institution_id, person_ids=[person_id]).get(person_id)
        if person_id is not None and computation.code is not ResultCode.NOT_FOUND
        else None
    )
    payload = result_payload(
        computation,
        include_limits=not rules.limit_consent_step,
        institution_patient_number=tag,
    )
    return LookupOutcome(computation, payload, event.id, ignored)
