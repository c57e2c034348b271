"""災害時 search: staff of an institution in a declared prefecture find a person without the
card (docs/disaster-mode.md).

Two ways:

* **By identity**: 漢字氏名 and/or カナ氏名, 生年月日 and 住所. Names and address are compared
  through the tolerated variations of :mod:`onshi.registration.normalise` (the same folding as
  the 5-item check: width, spaces, kana spellings, 番地 notation …). The birth date must be
  equal. The typed address must be the registered address, or its beginning when at least
  :data:`MIN_ADDRESS_PREFIX` characters long after folding (people in shelters often know
  their address only to the 町名). When both names are typed, both must match.
* **By 資格確認書 / 保険者番号 + 記号 + 番号** (+ 枝番) and 生年月日: the 記号番号 lookup's own
  validation and loader (:mod:`onshi.verification.lookup`, :mod:`onshi.verification.queries`).

Only member records with a shown link reach a result (:mod:`onshi.qualification.visibility`:
the loaders are built on it), grouped by person; the result code is the one rule of
:func:`onshi.verification.results.compute_result`. More than :data:`MAX_HITS` persons is no
answer at all (narrow the search): a disaster search must not list a town.

Every search writes an audit event (``disaster.search``: who, where, how, how many; never what
was typed); every person shown writes an access-log row (purpose ``disaster``, kind
``qualification``), in the caller's transaction. Without a declaration covering the
institution's prefecture now, nothing is searched and nothing is written
(:class:`NotDeclaredError`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from onshi.audit.models import AccessPurpose, ActorKind, DataKind
from onshi.audit.services import AccessBasis, record_audit, record_data_access
from onshi.clock import Clock, today_jst
from onshi.errors import DomainError
from onshi.identity.models import Person
from onshi.registration.normalise import FieldKind, canonical, fold
from onshi.verification.lookup import validate_identity
from onshi.verification.models import ResultCode
from onshi.verification.queries import card_check_members, latest_acquired, symbol_number_matches
from onshi.verification.results import QualificationRecord, compute_result
from onshi.verification.schemas import PersonIdentity, parse_birth_date
from onshi.viewer.disaster import OBJECT_TYPE, DisasterDeclarationRef, declaration_covering

MAX_HITS: Final = 10
MIN_ADDRESS_PREFIX: Final = 6
IDENTITY_FIELDS: Final = ("kanji_name", "kana_name", "birth_date", "address")
CARD_FIELDS: Final = ("insurer_number", "symbol", "number", "branch", "birth_date")
Mode = Literal["identity", "card"]


class DisasterSearchError(DomainError):
    code = "disaster.search.invalid"


class NotDeclaredError(DisasterSearchError):
    """No declaration covers the institution's prefecture now."""

    code = "disaster.search.not_declared"


@dataclass(frozen=True)
class IdentityQuery:
    kanji_name: str
    kana_name: str
    birth_date: date
    address: str


@dataclass(frozen=True)
class SearchHit:
    person_id: int
    result_code: ResultCode
    name: str
    name_kana: str
    birth_date: date
    address: str | None
    # The qualification in force (code 1) only; never details of an ended one.
    qualification: QualificationRecord | None


@dataclass(frozen=True)
class SearchOutcome:
    declaration: DisasterDeclarationRef
    mode: Mode
    hits: tuple[SearchHit, ...]
    too_many: bool = False
    multiple: bool = False  # 記号番号 of several persons: no one is shown


def check_identity(values: dict[str, str]) -> tuple[IdentityQuery | None, dict[str, DomainError]]:
    """Each field checked on its own (for the form)."""
    problems: dict[str, DomainError] = {}
    kanji, kana = canonical(values.get("kanji_name", "")), canonical(values.get("kana_name", ""))
    address = canonical(values.get("address", ""))
    if not kanji and not kana:
        problems["kanji_name"] = DisasterSearchError("disaster.search.name_required")
    if not address:
        problems["address"] = DisasterSearchError("disaster.search.address_required")
    elif len(fold(FieldKind.ADDRESS, address)) < MIN_ADDRESS_PREFIX:
        problems["address"] = DisasterSearchError(
            "disaster.search.address_short", min=MIN_ADDRESS_PREFIX
        )
    birth: date | None = None
    try:
        birth = parse_birth_date(values.get("birth_date", ""))
    except DomainError as exc:
        problems["birth_date"] = exc
    if problems or birth is None:
        return None, problems
    return IdentityQuery(kanji, kana, birth, address), {}


def check_card(values: dict[str, str]) -> dict[str, DomainError]:
    """The 記号番号 fields' errors (empty when the lookup key is good)."""
    _key, problems = validate_identity(_identity(values))
    return dict(problems)


def _identity(values: dict[str, str]) -> PersonIdentity:
    return PersonIdentity(
        insurer_number=values.get("insurer_number", ""),
        symbol=values.get("symbol") or None,
        number=values.get("number", ""),
        branch=values.get("branch") or None,
        birth_date=values.get("birth_date", ""),
    )


def _same(kind: FieldKind, typed: str, registered: str | None) -> bool:
    return bool(registered) and fold(kind, typed) == fold(kind, canonical(registered or ""))


def _address_matches(typed: str, registered: str | None) -> bool:
    if not registered:
        return False
    a, b = fold(FieldKind.ADDRESS, typed), fold(FieldKind.ADDRESS, canonical(registered))
    if a == b:
        return True
    # the beginning of the address, never cutting a number: 千代田1 is not 千代田12
    return (
        len(a) >= MIN_ADDRESS_PREFIX
        and b.startswith(a)
        and not (a[-1].isdigit() and b[len(a)].isdigit())
    )


def _matches(query: IdentityQuery, person: Person, members: Sequence[QualificationRecord]) -> bool:
    """The person's own 5 items or any shown member record's match the query."""
    names: list[tuple[str, str, str | None]] = [
        (person.family_name + person.given_name, person.full_name_kana, person.address)
    ]
    names += [(m.name, m.name_kana, m.address) for m in members]
    return any(
        (not query.kanji_name or _same(FieldKind.KANJI_NAME, query.kanji_name, kanji))
        and (not query.kana_name or _same(FieldKind.KANA_NAME, query.kana_name, kana))
        and _address_matches(query.address, address)
        for kanji, kana, address in names
    )


def _hit(
    records: Sequence[QualificationRecord], today: date, newest: dict[int, date] | None = None
) -> SearchHit | None:
    computation = compute_result(list(records), today=today, by_card=False, latest_acquired=newest)
    if computation.person_id is None or computation.code is ResultCode.NOT_FOUND:
        return None
    shown = computation.qualification if computation.code is ResultCode.VALID else None
    identified = computation.identified or max(records, key=lambda r: (r.acquired_on, r.id))
    return SearchHit(
        person_id=computation.person_id,
        result_code=computation.code,
        name=identified.name,
        name_kana=identified.name_kana,
        birth_date=identified.birth_date,
        address=identified.address,
        qualification=shown,
    )


def _by_identity(db: Session, query: IdentityQuery, today: date) -> tuple[list[SearchHit], bool]:
    persons = list(db.scalars(select(Person).where(Person.birth_date == query.birth_date)))
    members = card_check_members(db, [person.id for person in persons], today=today)
    matched = [
        person
        for person in persons
        if members[person.id] and _matches(query, person, members[person.id])
    ]
    if len(matched) > MAX_HITS:
        return [], True
    hits = [_hit(members[person.id], today) for person in matched]
    return [hit for hit in hits if hit is not None], False


def _by_card(db: Session, values: dict[str, str], today: date) -> tuple[list[SearchHit], bool]:
    key, problems = validate_identity(_identity(values))
    if key is None:
        raise next(iter(problems.values()))
    candidates = symbol_number_matches(db, [key], today=today)[key]
    persons = {row.person_id for row in candidates}
    if len(persons) > 1:
        return [], True
    hit = _hit(candidates, today, latest_acquired(db, persons)) if candidates else None
    return ([hit] if hit is not None else []), False


def search(
    db: Session,
    clock: Clock,
    *,
    institution_id: int,
    prefecture_code: str,
    staff_account_id: int,
    mode: Mode,
    values: dict[str, str],
    staff_role: str | None = None,
) -> SearchOutcome:
    """Search in 災害時 mode and log it. Bad input raises (the first field's error) and writes
    nothing; so does a prefecture no declaration covers now (:class:`NotDeclaredError`)."""
    now = clock.now()
    declaration = declaration_covering(db, prefecture_code=prefecture_code, now=now)
    if declaration is None:
        raise NotDeclaredError()
    today = today_jst(clock)
    if mode == "identity":
        query, problems = check_identity(values)
        if query is None:
            raise next(problems[field] for field in IDENTITY_FIELDS if field in problems)
        hits, crowded = _by_identity(db, query, today)
        too_many, multiple = crowded, False
    else:
        hits, crowded = _by_card(db, values, today)
        too_many, multiple = False, crowded
    record_audit(
        db,
        clock,
        actor_kind=ActorKind.STAFF,
        actor_id=staff_account_id,
        action="disaster.search",
        object_type=OBJECT_TYPE,
        object_id=declaration.id,
        institution_id=institution_id,
        details={"mode": mode, "hits": len(hits), "too_many": too_many, "multiple": multiple},
    )
    for hit in hits:
        record_data_access(
            db,
            clock,
            person_id=hit.person_id,
            data_kind=DataKind.QUALIFICATION,
            purpose=AccessPurpose.DISASTER,
            institution_id=institution_id,
            staff_account_id=staff_account_id,
            # what allowed it, as on the viewer's rows: the declaration and the searcher's role
            basis=AccessBasis(staff_role=staff_role, disaster_declaration_id=declaration.id),
        )
    return SearchOutcome(declaration, mode, tuple(hits), too_many=too_many, multiple=multiple)
