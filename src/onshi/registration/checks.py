"""What a chunk of intake rows is before anything is registered: the keyed hash of each 個人番号,
each row's fingerprint (for idempotency) and the 5-item check of every ``acquire`` / ``change``
row against J-LIS — everything that depends on the rows and J-LIS alone, not on Onshi's own
tables.

:func:`check_chunk` computes it, in the importing process or, for a large file, in the second
process that also parses the file (:mod:`onshi.registration.validation`), which reads the
SIMULATED J-LIS tables through a connection of its own while the importer writes the previous
chunk. Either way the same code gives the same :class:`ChunkChecks`; the importer then only looks
up and writes its own rows (:mod:`onshi.registration.intake`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, Final, cast

from onshi.identity.models import Sex
from onshi.jlis.gateway import Resident as JlisResident
from onshi.jlis.loading import prefecture_of
from onshi.registration.catalogue import verdict_message
from onshi.registration.lookups import fingerprint
from onshi.registration.matching import (
    Applicant,
    ItemResult,
    Outcome,
    Verdict,
    reconcile_by_items,
    reconcile_with_number,
)
from onshi.registration.residents import Residents
from onshi.registration.rows import Event, MemberEvent, RowError

Wire = tuple[Any, ...]
_OUTCOMES: Final = {outcome.value: outcome for outcome in Outcome}
_SEXES: Final = {sex.value: sex for sex in Sex}


@dataclass(frozen=True, slots=True)
class Check:
    """The 5-item check of one row, as the chunk registers it."""

    outcome: Outcome
    reason_code: str
    message: str
    differing: tuple[str, ...]  # the items that differ (``Item`` values)
    variations: tuple[tuple[str, str], ...]  # (item, variation) through which they match
    resident: JlisResident | None  # the resident the row links to (None: held)
    holder: JlisResident | None  # held with a 個人番号 J-LIS knows: the resident holding it

    @classmethod
    def of(cls, verdict: Verdict, holder: JlisResident | None) -> Check:
        resident = None if verdict.resident is None else cast(JlisResident, verdict.resident.ref)
        message, differing, variations = _summary(verdict.reason_code, verdict.items)
        return cls(
            verdict.outcome,
            verdict.reason_code,
            message,
            differing,
            variations,
            resident,
            holder if resident is None else None,
        )


@lru_cache(maxsize=4096)
def _summary(
    reason_code: str, items: tuple[ItemResult, ...]
) -> tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]]:
    """A verdict's message, differing items and variations (few distinct ones in a file)."""
    verdict = Verdict(Outcome.HELD, reason_code, None, items)  # the outcome is not used here
    return (
        verdict_message(verdict),
        tuple(item.value for item in verdict.differing),
        tuple((item.value, name) for item, name in verdict.variations),
    )


@dataclass(frozen=True, slots=True)
class ChunkChecks:
    """:func:`check_chunk`'s answer for one chunk, by line number."""

    digests: dict[int, str]  # keyed hash of the 個人番号 given
    fingerprints: dict[int, str]  # of every valid row (:func:`.lookups.fingerprint`)
    checks: dict[int, Check]  # of every acquire / change row


def check_chunk(
    rows: Sequence[MemberEvent | RowError], residents: Residents, my_number_key: str
) -> ChunkChecks:
    """The hashes, fingerprints and 5-item checks of a chunk, J-LIS asked once per chunk."""
    digests: dict[int, str] = {}
    fingerprints: dict[int, str] = {}
    checked: list[MemberEvent] = []
    for row in rows:
        if isinstance(row, RowError):
            continue
        digest = None
        if row.my_number is not None:
            digest = digests[row.line_no] = row.my_number.hash(my_number_key)
        fingerprints[row.line_no] = fingerprint(row, digest)
        if row.event is not Event.LOSE:
            if row.birth_date is None or row.sex is None:  # required by the row rules
                raise ValueError("an acquire or change row without birth date or sex")
            checked.append(row)
    by_hash = residents.by_hashes(digests[r.line_no] for r in checked if r.line_no in digests)
    by_items = residents.by_birth_and_sex(
        (cast(date, r.birth_date), cast(str, r.sex)) for r in checked if r.line_no not in digests
    )
    checks: dict[int, Check] = {}
    for row in checked:
        applicant = Applicant.of(
            row.kanji_name, row.kana_name, row.birth_date, row.sex, row.address  # type: ignore[arg-type]
        )  # fmt: skip
        digest = digests.get(row.line_no)
        if digest is not None:
            holder = by_hash.get(digest)
            verdict = reconcile_with_number(applicant, holder)
            checks[row.line_no] = Check.of(
                verdict, None if holder is None else cast(JlisResident, holder.ref)
            )
        else:
            pool = by_items.get((row.birth_date, row.sex), [])  # type: ignore[arg-type]
            checks[row.line_no] = Check.of(reconcile_by_items(applicant, pool), None)
    return ChunkChecks(digests, fingerprints, checks)


# -- across the pipe (plain tuples) ----------------------------------------------------------
def resident_to_wire(resident: JlisResident | None) -> Wire | None:
    """The resident as a tuple; its prefecture, when J-LIS gives none, read from its address
    here (:func:`onshi.registration.persons.create_persons` would read it the same way)."""
    if resident is None:
        return None
    prefecture = resident.prefecture_code or prefecture_of(resident.address)
    return (resident.my_number_hash, resident.family_name, resident.given_name,
            resident.family_name_kana, resident.given_name_kana, resident.birth_date,
            resident.sex.value, resident.address, resident.postal_code, prefecture)  # fmt: skip


def resident_from_wire(item: Wire | None) -> JlisResident | None:
    if item is None:
        return None
    values = list(item)
    values[6] = _SEXES[values[6]]
    return JlisResident(*values)


def check_to_wire(check: Check) -> Wire:
    return (check.outcome.value, check.reason_code, check.message, check.differing,
            check.variations, resident_to_wire(check.resident),
            resident_to_wire(check.holder))  # fmt: skip


def check_from_wire(item: Wire) -> Check:
    outcome, reason_code, message, differing, variations, resident, holder = item
    return Check(
        _OUTCOMES[outcome],
        reason_code,
        message,
        differing,
        variations,
        resident_from_wire(resident),
        resident_from_wire(holder),
    )
