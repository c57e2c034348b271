"""Parsing and validating an intake file in the second process of
:mod:`onshi.batch.validate` (the same process, frames and runner as 一括照会), while the
importing process registers the previous chunk: on two cores the rows' parsing, normalisation
and — with a :class:`CheckSpec` — their 5-item checks against J-LIS then cost the writer little.

:class:`RegistrationSpec` is what the process runs (unpickling it imports this module); rows
travel as plain tuples (:func:`to_wire`, :func:`from_wire`) and are rebuilt exactly as
:func:`onshi.registration.rows.parse_fields` made them. Without a :class:`CheckSpec` the
process has no database code and the 個人番号 crosses the pipe between the two processes of one
import (never written anywhere). With one, the process also reads the SIMULATED J-LIS tables
(its own connection, a short read transaction per chunk: the importer never writes them) and
computes each chunk's :func:`onshi.registration.checks.check_chunk`; the 個人番号 then stays in
this process and only its keyed hash crosses (:func:`checked_to_wire`,
:func:`checked_from_wire`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import date
from typing import TYPE_CHECKING, Any

from onshi.identifiers import MyNumber
from onshi.registration.reader import data_records, parsed
from onshi.registration.rows import Event, MemberEvent, RowError

if TYPE_CHECKING:
    from onshi.registration.checks import ChunkChecks

Wire = tuple[Any, ...]


_FIELDS = tuple(item.name for item in fields(MemberEvent))
_MY_NUMBER = _FIELDS.index("my_number")
_EVENTS = {event.value: event for event in Event}
_CHECKED = len(_FIELDS) + 3  # a row's fields, its hash, its fingerprint and its check


@dataclass(frozen=True)
class CheckSpec:
    """The 5-item checks in the second process: the database whose SIMULATED J-LIS tables it
    reads, and the key of the 個人番号 hashes."""

    database_url: str = field(repr=False)  # may carry a password
    my_number_key: str = field(repr=False)


@dataclass(frozen=True)
class RegistrationSpec:
    """What the second process needs to know of an intake file."""

    encoding: str
    skip: int  # data records already committed
    today: date
    size: int  # records per chunk
    check: CheckSpec | None = None

    def _row_chunks(self, pieces: Iterable[bytes]) -> Iterator[list[MemberEvent | RowError]]:
        chunk: list[MemberEvent | RowError] = []
        for index, row in enumerate(parsed(data_records(pieces, self.encoding), today=self.today)):
            if index < self.skip:
                continue
            chunk.append(row)
            if len(chunk) >= self.size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def wire_chunks(self, pieces: Iterable[bytes]) -> Iterator[list[Wire]]:
        if self.check is None:
            for rows in self._row_chunks(pieces):
                yield [to_wire(row) for row in rows]
            return
        yield from self._checked_chunks(pieces, self.check)

    def _checked_chunks(self, pieces: Iterable[bytes], spec: CheckSpec) -> Iterator[list[Wire]]:
        from sqlalchemy.orm import Session

        from onshi.db.engine import make_engine
        from onshi.registration.checks import check_chunk
        from onshi.registration.residents import SimulatedResidentLookup

        engine = make_engine(spec.database_url)
        try:
            with Session(engine) as db:
                lookup = SimulatedResidentLookup(db)
                for rows in self._row_chunks(pieces):
                    checks = check_chunk(rows, lookup, spec.my_number_key)
                    db.rollback()  # no read transaction held while the importer writes
                    yield checked_to_wire(rows, checks)
        finally:
            engine.dispose()


def to_wire(row: MemberEvent | RowError) -> Wire:
    if isinstance(row, RowError):
        return (row.line_no, row.field, row.code, dict(row.params))
    values = [getattr(row, name) for name in _FIELDS]
    values[1] = row.event.value
    number = row.my_number
    values[_MY_NUMBER] = None if number is None else number.value
    return tuple(values)


def from_wire(item: Wire) -> MemberEvent | RowError:
    if len(item) == 4:
        return RowError(*item)
    values = list(item)
    values[1] = Event(values[1])
    if values[_MY_NUMBER] is not None:
        values[_MY_NUMBER] = MyNumber(values[_MY_NUMBER])
    return MemberEvent(*values)


def checked_to_wire(rows: list[MemberEvent | RowError], checks: ChunkChecks) -> list[Wire]:
    """A chunk and its checks, each valid row without its 個人番号 but with its hash,
    fingerprint and check (``None`` for a ``lose`` row)."""
    from onshi.registration.checks import check_to_wire

    out: list[Wire] = []
    for row in rows:
        if isinstance(row, RowError):
            out.append((row.line_no, row.field, row.code, dict(row.params)))
            continue
        values = [getattr(row, name) for name in _FIELDS]
        values[1] = row.event.value
        values[_MY_NUMBER] = None
        line = row.line_no
        check = checks.checks.get(line)
        values.extend((
            checks.digests.get(line), checks.fingerprints[line],
            None if check is None else check_to_wire(check),
        ))  # fmt: skip
        out.append(tuple(values))
    return out


def checked_from_wire(items: list[Wire]) -> tuple[list[MemberEvent | RowError], ChunkChecks]:
    """The rows and checks :func:`checked_to_wire` sent (the rows' ``my_number`` is None)."""
    from onshi.registration.checks import ChunkChecks, check_from_wire

    rows: list[MemberEvent | RowError] = []
    checks = ChunkChecks({}, {}, {})
    for item in items:
        if len(item) != _CHECKED:
            rows.append(RowError(*item))
            continue
        digest, mark, check = item[-3:]
        values = list(item[:-3])
        values[1] = _EVENTS[values[1]]
        line = values[0]
        rows.append(MemberEvent(*values))
        if digest is not None:
            checks.digests[line] = digest
        checks.fingerprints[line] = mark
        if check is not None:
            checks.checks[line] = check_from_wire(check)
    return rows, checks
