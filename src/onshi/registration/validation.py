"""Parsing and validating an intake file in the second process of
:mod:`onshi.batch.validate` (the same process, frames and runner as 一括照会), while the
importing process registers the previous chunk: on two cores the rows' parsing and
normalisation then cost the writer little.

Free of database code: :class:`RegistrationSpec` is what the process runs (unpickling it
imports this module); rows travel as plain tuples (:func:`to_wire`, :func:`from_wire`) and are
rebuilt exactly as :func:`onshi.registration.rows.parse_fields` made them. The 個人番号 crosses
the pipe between the two processes of one import and is never written anywhere."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from onshi.identifiers import MyNumber
from onshi.registration.reader import data_records, parsed
from onshi.registration.rows import Event, MemberEvent, RowError

Wire = tuple[Any, ...]


_FIELDS = tuple(item.name for item in fields(MemberEvent))
_MY_NUMBER = _FIELDS.index("my_number")


@dataclass(frozen=True)
class RegistrationSpec:
    """What the second process needs to know of an intake file."""

    encoding: str
    skip: int  # data records already committed
    today: date
    size: int  # records per chunk

    def wire_chunks(self, pieces: Iterable[bytes]) -> Iterator[list[Wire]]:
        chunk: list[Wire] = []
        for index, row in enumerate(parsed(data_records(pieces, self.encoding), today=self.today)):
            if index < self.skip:
                continue
            chunk.append(to_wire(row))
            if len(chunk) >= self.size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


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
