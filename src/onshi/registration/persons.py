"""The person a J-LIS resident is: found by the keyed hash of the 個人番号, or created with the 5
items as J-LIS has them (a person nobody registered yet). Looked up for a whole chunk at once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from onshi.identity.models import Person
from onshi.jlis.loading import prefecture_of

_PERSONS: Final = cast(Table, Person.__table__)
_IN_CHUNK: Final = 500


def person_ids(db: Session, hashes: Iterable[str]) -> dict[str, int]:
    """``{my_number_hash: person id}`` for the hashes that have a person."""
    wanted = sorted(set(hashes))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), _IN_CHUNK):
        part = wanted[start : start + _IN_CHUNK]
        for digest, person_id in db.execute(
            select(_PERSONS.c.my_number_hash, _PERSONS.c.id).where(
                _PERSONS.c.my_number_hash.in_(part)
            )
        ):
            found[digest] = int(person_id)
    return found


def create_persons(
    db: Session,
    residents: dict[str, Any],
    *,
    fallback_prefecture: str,
    now: datetime,
) -> dict[str, int]:
    """Persons for J-LIS residents (``{hash: onshi.jlis.Resident}``) that have none yet; their
    ids by hash. The prefecture is read from the address (the insurer's when it names none)."""
    if not residents:
        return {}
    values = [
        {
            "family_name": r.family_name[:64],
            "given_name": r.given_name[:64],
            "family_name_kana": r.family_name_kana[:128],
            "given_name_kana": r.given_name_kana[:128],
            "birth_date": r.birth_date,
            "sex": r.sex,
            "postal_code": r.postal_code,
            "address": r.address[:256],
            "prefecture_code": r.prefecture_code or prefecture_of(r.address) or fallback_prefecture,
            "my_number_hash": digest,
            "created_at": now,
        }
        for digest, r in sorted(residents.items())
    ]
    rows = db.execute(insert(_PERSONS).returning(_PERSONS.c.my_number_hash, _PERSONS.c.id), values)
    return {digest: int(person_id) for digest, person_id in rows}
