"""The J-LIS residents a chunk of intake rows is compared with, looked up once per chunk.

:class:`ResidentLookup` asks any :class:`onshi.jlis.JlisGateway` one question per distinct key
(a 個人番号's hash, or a birth date + sex); :class:`SimulatedResidentLookup` answers the same
questions for the SIMULATED J-LIS with one query per chunk, so a million rows do not make a
million round trips. Both return :class:`onshi.registration.matching.Resident` with their
comparison keys folded once (cached across chunks up to :data:`CACHE_LIMIT` residents).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, Final, Protocol

from sqlalchemy import Row, Table, select
from sqlalchemy.orm import Session

from onshi.identity.models import Sex
from onshi.jlis.gateway import JlisGateway
from onshi.jlis.gateway import Resident as JlisResident
from onshi.jlis.models import SimulatedJlisResident
from onshi.registration.matching import Resident

#: Two chunks of residents (measured in the parsing process at 4,000-row chunks: 20,000 → 8,000
#: lowers its peak from 111 to 94 MiB; each resident is mostly found once).
CACHE_LIMIT: Final = 8_000
_IN_CHUNK: Final = 500


def resident_keys(resident: JlisResident) -> Resident:
    """The comparison keys of a J-LIS resident; ``ref`` is the resident itself."""
    return Resident.of(
        resident,
        resident.kanji_name,
        resident.kana_name,
        resident.birth_date,
        resident.sex.value,
        resident.address,
    )


class Residents(Protocol):
    def by_hashes(self, hashes: Iterable[str]) -> dict[str, Resident]: ...

    def by_birth_and_sex(
        self, keys: Iterable[tuple[date, str]]
    ) -> dict[tuple[date, str], list[Resident]]: ...


class ResidentLookup:
    """Any gateway, one question per distinct key."""

    def __init__(self, gateway: JlisGateway) -> None:
        self.gateway = gateway

    def by_hashes(self, hashes: Iterable[str]) -> dict[str, Resident]:
        found: dict[str, Resident] = {}
        for digest in set(hashes):
            resident = self.gateway.resident_for_my_number_hash(digest)
            if resident is not None:
                found[digest] = resident_keys(resident)
        return found

    def by_birth_and_sex(
        self, keys: Iterable[tuple[date, str]]
    ) -> dict[tuple[date, str], list[Resident]]:
        return {
            (birth, sex): [
                resident_keys(r)
                for r in self.gateway.candidates_by_birth_date_and_sex(birth, Sex(sex))
            ]
            for birth, sex in set(keys)
        }


_COLUMNS = (
    "my_number_hash",
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "birth_date",
    "sex",
    "address",
)


class SimulatedResidentLookup:
    """The SIMULATED J-LIS tables, one query per chunk of keys, residents cached."""

    def __init__(self, db: Session) -> None:
        self.db = db
        self.table: Table = SimulatedJlisResident.__table__  # type: ignore[assignment]
        self._cache: dict[str, Resident] = {}

    def _keys_of(self, row: Row[Any]) -> Resident:
        cached = self._cache.get(row.my_number_hash)
        if cached is not None:
            return cached
        resident = resident_keys(
            JlisResident(
                my_number_hash=row.my_number_hash,
                family_name=row.family_name,
                given_name=row.given_name,
                family_name_kana=row.family_name_kana,
                given_name_kana=row.given_name_kana,
                birth_date=row.birth_date,
                sex=Sex(row.sex),
                address=row.address,
            )
        )
        if len(self._cache) >= CACHE_LIMIT:
            self._cache.clear()
        self._cache[row.my_number_hash] = resident
        return resident

    def by_hashes(self, hashes: Iterable[str]) -> dict[str, Resident]:
        wanted = sorted(set(hashes))
        found: dict[str, Resident] = {}
        columns = [self.table.c[name] for name in _COLUMNS]
        for start in range(0, len(wanted), _IN_CHUNK):
            part = wanted[start : start + _IN_CHUNK]
            for row in self.db.execute(
                select(*columns).where(self.table.c.my_number_hash.in_(part))
            ):
                found[row.my_number_hash] = self._keys_of(row)
        return found

    def by_birth_and_sex(
        self, keys: Iterable[tuple[date, str]]
    ) -> dict[tuple[date, str], list[Resident]]:
        wanted = sorted(set(keys))
        found: dict[tuple[date, str], list[Resident]] = {key: [] for key in wanted}
        columns = [self.table.c[name] for name in _COLUMNS]
        by_sex: dict[str, list[date]] = {}
        for birth, sex in wanted:
            by_sex.setdefault(sex, []).append(birth)
        # one sex and a list of birth dates: an index search on (birth_date, sex), where a
        # row-value IN list would make SQLite scan the whole registry
        for sex, births in by_sex.items():
            for start in range(0, len(births), _IN_CHUNK):
                query = (
                    select(*columns)
                    .where(
                        self.table.c.sex == sex,
                        self.table.c.birth_date.in_(births[start : start + _IN_CHUNK]),
                    )
                    .order_by(self.table.c.id)
                )
                for row in self.db.execute(query):
                    found[(row.birth_date, str(row.sex))].append(self._keys_of(row))
        return found
