"""Set-based resolution of a chunk of search rows: the chunk's keys go into a temporary table
and ONE join against insurers + qualifications + persons returns every candidate qualification
of every row (枝番 optional: a row without 枝番 matches any branch). Only shown member records
take part (the one rule, :func:`onshi.qualification.visibility.join_shown`; the link names the
person). The candidates feed :func:`onshi.verification.results.compute_result`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import fields
from datetime import date
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Date,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    and_,
    func,
    or_,
    select,
    text,
    type_coerce,
)
from sqlalchemy.orm import aliased

from onshi.batch.rows import SearchRow
from onshi.db.bulk import BulkInsert
from onshi.db.enums import StrEnumType
from onshi.qualification.models import Insurer, MemberLink, Qualification
from onshi.qualification.visibility import join_shown, shown_link
from onshi.verification.results import QualificationRecord

_TEMP = MetaData()
lookup_keys = Table(
    "batch_lookup_keys",
    _TEMP,
    Column("line_no", Integer, primary_key=True),
    Column("insurer_number", String(8), nullable=False),
    Column("symbol_key", String(38), nullable=False),
    Column("number_key", String(38), nullable=False),
    Column("branch", String(2)),
    Column("birth_date", Date, nullable=False),
    prefixes=["TEMPORARY"],
)

_CREATE = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS batch_lookup_keys ("
    "line_no INTEGER PRIMARY KEY, insurer_number VARCHAR(8) NOT NULL, "
    "symbol_key VARCHAR(38) NOT NULL, number_key VARCHAR(38) NOT NULL, branch VARCHAR(2), "
    "birth_date DATE NOT NULL)"
)

_KEY_COLUMNS = ("line_no", "insurer_number", "symbol_key", "number_key", "branch", "birth_date")
_ANALYZE = ("ANALYZE batch_lookup_keys", "ANALYZE temp.batch_lookup_keys")

_newer = aliased(Qualification)
_newer_link = aliased(MemberLink)


#: QualificationRecord field → column, in select order after ``line_no``.
_RECORD_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("id", Qualification.id),
    ("person_id", MemberLink.person_id),
    ("insurer_number", Insurer.number),
    ("insurer_name", Insurer.name),
    ("card_class", Qualification.card_class),
    ("symbol", Qualification.symbol),
    ("number", Qualification.number),
    ("branch", Qualification.branch),
    ("relationship", Qualification.relationship),
    ("acquired_on", Qualification.acquired_on),
    ("lost_on", Qualification.lost_on),
    ("loss_reason", Qualification.loss_reason),
    ("issued_on", Qualification.issued_on),
    ("valid_from", Qualification.valid_from),
    ("valid_to", Qualification.valid_to),
    ("copayment_ratio", Qualification.copayment_ratio),
    ("preschool", Qualification.preschool),
    ("elderly_certificate_ratio", Qualification.elderly_certificate_ratio),
    ("elderly_certificate_valid_from", Qualification.elderly_certificate_valid_from),
    ("elderly_certificate_valid_to", Qualification.elderly_certificate_valid_to),
    ("name", Qualification.name),
    ("name_kana", Qualification.name_kana),
    ("sex", Qualification.sex),
    ("birth_date", Qualification.birth_date),
    ("address", Qualification.address),
    ("postal_code", Qualification.postal_code),
)
_FIELDS = tuple(name for name, _column in _RECORD_COLUMNS)
#: StrEnum columns are read as plain strings and mapped to their members by one dictionary
#: lookup (what StrEnumType does by calling the enum class, several times slower per value);
#: an unknown code raises KeyError as the enum would raise ValueError.
_ENUMS: tuple[tuple[int, dict[Any, Any]], ...] = tuple(
    (index, {None: None, **column.type.enum_cls._value2member_map_})
    for index, (_name, column) in enumerate(_RECORD_COLUMNS)
    if isinstance(column.type, StrEnumType)
)
_N = len(_FIELDS)
if tuple(f.name for f in fields(QualificationRecord))[:_N] != _FIELDS:  # pragma: no cover
    raise ImportError("_RECORD_COLUMNS must follow QualificationRecord's field order")


def _candidates_query() -> Select[Any]:
    latest = (
        select(func.max(_newer.acquired_on))
        .join(_newer_link, and_(_newer_link.qualification_id == _newer.id, shown_link(_newer_link)))
        .where(_newer_link.person_id == MemberLink.person_id)
        .scalar_subquery()
    )
    k = lookup_keys.c
    return join_shown(
        select(
            k.line_no,
            *(
                (
                    type_coerce(column, String(column.type.length))
                    if isinstance(column.type, StrEnumType)
                    else column
                ).label(f"r_{name}")
                for name, column in _RECORD_COLUMNS
            ),
            latest.label("latest_acquired"),
        )
        .select_from(lookup_keys)
        .join(Insurer, Insurer.number == k.insurer_number)
        .join(
            Qualification,
            and_(
                Qualification.insurer_id == Insurer.id,
                Qualification.symbol_key == k.symbol_key,
                Qualification.number_key == k.number_key,
                or_(k.branch.is_(None), Qualification.branch == k.branch),
                Qualification.birth_date == k.birth_date,
            ),
        ),
        Qualification.id,
    )


CANDIDATES = _candidates_query()


class Candidates:
    """Candidates per line and the newest visible acquisition date per person."""

    def __init__(self) -> None:
        self.by_line: defaultdict[int, list[QualificationRecord]] = defaultdict(list)
        self.latest_acquired: dict[int, date] = {}


def find_candidates(connection: Connection, rows: Sequence[SearchRow]) -> Candidates:
    """One INSERT (executemany) into the connection's temporary table and one SELECT."""
    connection.execute(text(_CREATE))
    connection.execute(lookup_keys.delete())
    found = Candidates()
    if not rows:
        return found
    keys = BulkInsert(connection, lookup_keys, _KEY_COLUMNS)
    day = keys.cached_converter("birth_date")
    keys.run(
        [
            (r.line_no, r.insurer_number, r.symbol_key, r.number_key, r.branch, day(r.birth_date))
            for r in rows
        ]
    )
    # Statistics for the temporary table make both planners drive the join from the keys
    # (without them SQLite scans qualifications and indexes the keys instead).
    connection.execute(text(_ANALYZE[connection.dialect.name == "sqlite"]))
    by_line, latest_acquired = found.by_line, found.latest_acquired
    for r in connection.execute(CANDIDATES):
        # Positional: _RECORD_COLUMNS follow QualificationRecord's field order (asserted below).
        values = list(r[1 : _N + 1])
        for index, members in _ENUMS:
            values[index] = members[values[index]]
        record = QualificationRecord(*values)
        by_line[r[0]].append(record)
        if r[_N + 1] is not None:
            latest_acquired[record.person_id] = r[_N + 1]
    connection.execute(lookup_keys.delete())
    return found
