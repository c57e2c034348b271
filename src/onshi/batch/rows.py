"""One search row of a 一括照会: columns, validation and normalisation (pure).

A row becomes a :class:`SearchRow` (keys normalised exactly as the qualification lookup keys) or
a :class:`RowError` carrying a stable error code and its message params. Identifier codes come
from :mod:`onshi.identifiers` (``insurer_number.check_digit`` …); row codes are ``batch.row.*``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from operator import itemgetter
from typing import Final

from onshi.identifiers import (
    IdentifierError,
    normalize_branch,
    number_key,
    parse_insurer_number,
    symbol_key,
)

#: Canonical column names, in the documented order.
COLUMNS: Final[tuple[str, ...]] = (
    "patient_ref",
    "insurer_number",
    "symbol",
    "number",
    "branch",
    "birth_date",
)
REQUIRED_COLUMNS: Final[frozenset[str]] = frozenset({"insurer_number", "number", "birth_date"})
JAPANESE_HEADER: Final[tuple[str, ...]] = (
    "照会番号",
    "保険者番号",
    "記号",
    "番号",
    "枝番",
    "生年月日",
)
#: Header names accepted for each column (compared after NFKC, spaces removed, lower case).
HEADER_ALIASES: Final[Mapping[str, str]] = {
    **dict(zip(JAPANESE_HEADER, COLUMNS, strict=True)),
    **{name: name for name in COLUMNS},
    "被保険者証記号": "symbol",
    "被保険者証番号": "number",
    "reference": "patient_ref",
}
MAX_PATIENT_REF: Final = 32


@dataclass(frozen=True, slots=True)
class SearchRow:
    line_no: int
    patient_ref: str | None
    insurer_number: str
    symbol_key: str  # '' when the card has no 記号 (as qualifications.symbol_key)
    number_key: str
    branch: str | None
    birth_date: date


@dataclass(frozen=True, slots=True)
class RowError:
    line_no: int
    code: str
    params: Mapping[str, str]
    patient_ref: str | None = None


def header_key(raw: str) -> str:
    return "".join(unicodedata.normalize("NFKC", raw).split()).lower()


def map_header(fields: Sequence[str]) -> tuple[str, ...] | None:
    """Canonical names for a header record, or None when it is not a valid header (an unknown
    or repeated name, or a required column missing)."""
    names: list[str] = []
    for field in fields:
        name = HEADER_ALIASES.get(header_key(field.lstrip("\ufeff")))
        if name is None or name in names:
            return None
        names.append(name)
    if not set(names) >= REQUIRED_COLUMNS:
        return None
    return tuple(names)


def _ascii_key(raw: str) -> str | None:
    """Fast path: an all-ASCII alphanumeric value normalises to itself upper-cased, exactly as
    :func:`number_key` / :func:`symbol_key` would return it (checked in the tests)."""
    if raw.isascii() and raw.isalnum() and len(raw) <= 38:
        return raw.upper()
    return None


@lru_cache(maxsize=4096)
def _insurer(raw: str) -> str | IdentifierError:
    try:
        return parse_insurer_number(raw).value
    except IdentifierError as exc:
        return exc


@lru_cache(maxsize=16384)
def _symbol(raw: str) -> str | IdentifierError:
    fast = _ascii_key(raw)
    if fast is not None:
        return fast
    try:
        return symbol_key(raw)
    except IdentifierError as exc:
        return exc


def _number(raw: str) -> str:
    fast = _ascii_key(raw)
    return fast if fast is not None else number_key(raw)


def _branch(raw: str) -> str | None:
    if len(raw) == 2 and raw.isascii() and raw.isdigit():
        return raw
    return normalize_branch(raw)


def parse_birth_date(raw: str) -> date | RowError:
    """YYYYMMDD, YYYY-MM-DD or YYYY/MM/DD (full-width digits accepted). ``line_no`` of the
    returned error is 0; the caller sets it."""
    text = raw.strip()
    if not text:
        return RowError(0, "batch.row.birth_date_required", {})
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).strip()
    compact = text.replace("-", "").replace("/", "")
    if len(compact) != 8 or not compact.isascii() or not compact.isdigit():
        return RowError(0, "batch.row.birth_date_format", {"got": raw[:20]})
    try:
        return date(int(compact[:4]), int(compact[4:6]), int(compact[6:]))
    except ValueError:
        return RowError(0, "batch.row.birth_date_invalid", {"got": raw[:20]})


#: Birth dates repeat across a file (one per person searched): parsed once per distinct text.
_birth_date = lru_cache(maxsize=65536)(parse_birth_date)


def _error(line_no: int, exc: IdentifierError, ref: str | None) -> RowError:
    params = {str(k): str(v) for k, v in exc.params.items()}
    return RowError(line_no, exc.code, params, ref)


def _parse(line_no: int, raw: tuple[str, ...], today: date) -> SearchRow | RowError:
    """The checks of one row (raw texts in :data:`COLUMNS` order); the first failure is the
    row's error."""
    ref_raw, insurer_raw, symbol_raw, number_raw, branch_raw, birth_raw = raw
    ref_raw = ref_raw.strip()
    ref = ref_raw[:MAX_PATIENT_REF] or None
    if len(ref_raw) > MAX_PATIENT_REF:
        return RowError(
            line_no, "batch.row.patient_ref_length", {"expected": str(MAX_PATIENT_REF)}, ref
        )
    insurer = _insurer(insurer_raw)
    if isinstance(insurer, IdentifierError):
        return _error(line_no, insurer, ref)
    symbol = _symbol(symbol_raw)
    if isinstance(symbol, IdentifierError):
        return _error(line_no, symbol, ref)
    number = _ascii_key(number_raw)
    if number is None or (
        branch_raw and not (len(branch_raw) == 2 and branch_raw.isascii() and branch_raw.isdigit())
    ):
        try:
            number = _number(number_raw)
            branch = _branch(branch_raw)
        except IdentifierError as exc:
            return _error(line_no, exc, ref)
    else:
        branch = branch_raw or None  # two ASCII digits, or no 枝番
    birth = _birth_date(birth_raw)
    if isinstance(birth, RowError):
        return RowError(line_no, birth.code, birth.params, ref)
    if birth > today:
        return RowError(line_no, "batch.row.birth_date_future", {"got": birth.isoformat()}, ref)
    return SearchRow(line_no, ref, insurer, symbol, number, branch, birth)


def parse_row(
    line_no: int, values: Mapping[str, str | None], *, today: date
) -> SearchRow | RowError:
    """Validate and normalise one row given as ``{canonical column: raw text}``."""
    return _parse(line_no, tuple(values.get(name) or "" for name in COLUMNS), today)


def _column_count_error(line_no: int, fields: Sequence[str], columns: Sequence[str]) -> RowError:
    ref = None
    if "patient_ref" in columns:
        index = columns.index("patient_ref")
        ref = (fields[index].strip()[:MAX_PATIENT_REF] or None) if index < len(fields) else None
    return RowError(
        line_no,
        "batch.row.column_count",
        {"expected": str(len(columns)), "got": str(len(fields))},
        ref,
    )


def parse_fields(
    line_no: int, fields: Sequence[str], columns: Sequence[str], *, today: date
) -> SearchRow | RowError:
    """A CSV record: the field count must match the header."""
    if len(fields) != len(columns):
        return _column_count_error(line_no, fields, columns)
    return parse_row(line_no, dict(zip(columns, fields, strict=True)), today=today)


class FieldParser:
    """:func:`parse_fields` for one header, without a dictionary per record: the columns'
    positions are looked up once (same checks, same results; checked in the tests)."""

    def __init__(self, columns: Sequence[str], *, today: date) -> None:
        self.columns = tuple(columns)
        self.today = today
        width = len(self.columns)
        self.pad = not set(COLUMNS) <= set(self.columns)
        # A missing optional column reads from the empty string appended at index ``width``.
        self.pick = itemgetter(
            *(self.columns.index(name) if name in self.columns else width for name in COLUMNS)
        )

    def __call__(self, line_no: int, fields: list[str]) -> SearchRow | RowError:
        if len(fields) != len(self.columns):
            return _column_count_error(line_no, fields, self.columns)
        return _parse(line_no, self.pick([*fields, ""] if self.pad else fields), self.today)


def parse_json_row(line_no: int, value: object, *, today: date) -> SearchRow | RowError:
    """A row posted as JSON: an object whose values are strings (or null / absent)."""
    if not isinstance(value, dict):
        return RowError(line_no, "batch.row.not_object", {})
    ref = value.get("patient_ref")
    ref_text = ref.strip()[:MAX_PATIENT_REF] or None if isinstance(ref, str) else None
    unknown = sorted(str(key) for key in value if key not in COLUMNS)
    if unknown:
        return RowError(line_no, "batch.row.unknown_field", {"got": unknown[0][:40]}, ref_text)
    for key in COLUMNS:
        item = value.get(key)
        if item is not None and not isinstance(item, str):
            return RowError(line_no, "batch.row.field_type", {"field": key}, ref_text)
    missing = [key for key in ("insurer_number", "number", "birth_date") if key not in value]
    if missing:
        return RowError(line_no, "batch.row.missing_field", {"field": missing[0]}, ref_text)
    return parse_row(line_no, value, today=today)
