"""The person a J-LIS resident is: found by the keyed hash of the 個人番号, or created with the 5
items as J-LIS has them (a person nobody registered yet). Looked up for a whole chunk at once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from onshi.db.bulk import BulkInsert, reserve_ids
from onshi.identity.models import Person
from onshi.jlis.loading import prefecture_of

_PERSONS: Final = cast(Table, Person.__table__)
_IN_CHUNK: Final = 500
_COLUMNS: Final = (
    "id", "family_name", "given_name", "family_name_kana", "given_name_kana", "birth_date",
    "sex", "postal_code", "address", "prefecture_code", "my_number_hash", "created_at",
)  # fmt: skip


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
    connection = db.connection()
    wanted = sorted(residents.items())
    ids = reserve_ids(connection, _PERSONS, len(wanted))
    out = BulkInsert(connection, _PERSONS, _COLUMNS)
    day = out.cached_converter("birth_date")
    at = out.convert("created_at", now)
    out.run([
        (
            person_id, r.family_name[:64], r.given_name[:64], r.family_name_kana[:128],
            r.given_name_kana[:128], day(r.birth_date), r.sex.value, r.postal_code,
            r.address[:256],
            r.prefecture_code or prefecture_of(r.address) or fallback_prefecture, digest, at,
        )
        for person_id, (digest, r) in zip(ids, wanted, strict=True)
    ])  # fmt: skip
    return {digest: person_id for person_id, (digest, _) in zip(ids, wanted, strict=True)}
