"""One row of an insurer's member-event file: columns, validation and normalisation (pure).

A row becomes a :class:`MemberEvent` or a :class:`RowError` naming the field and the rule
(``registration.row.<field>.<rule>``, or the identifier codes of :mod:`onshi.identifiers` such as
``my_number.check_digit``); the texts are in ``messages.toml`` (Japanese and English). The
first failing field is the row's error. The 個人番号 is kept as :class:`MyNumber`, whose ``repr``
never shows it, and is hashed before anything is stored.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Final

import jaconv

from onshi.identifiers import (
    IdentifierError,
    MyNumber,
    normalize_branch,
    normalize_number,
    normalize_symbol,
    parse_my_number,
)
from onshi.registration.normalise import canonical

COLUMNS: Final[tuple[str, ...]] = (
    "event",
    "symbol",
    "number",
    "branch",
    "kanji_name",
    "kana_name",
    "birth_date",
    "sex",
    "address",
    "my_number",
    "relationship",
    "copayment",
    "acquired_on",
    "lost_on",
    "loss_reason",
    "notified_on",
)
#: The Japanese header, column for column.
JAPANESE_HEADER: Final[tuple[str, ...]] = (
    "異動区分",
    "記号",
    "番号",
    "枝番",
    "漢字氏名",
    "カナ氏名",
    "生年月日",
    "性別",
    "住所",
    "個人番号",
    "本人家族区分",
    "一部負担金割合",
    "資格取得年月日",
    "資格喪失年月日",
    "喪失事由",
    "届出受理日",
)
MAX_KANJI_NAME: Final = 128
MAX_KANA_NAME: Final = 256
MAX_ADDRESS: Final = 256


class Event(StrEnum):
    ACQUIRE = "acquire"  # 資格取得
    LOSE = "lose"  # 資格喪失
    CHANGE = "change"  # 変更 (氏名・住所・負担割合 …)


_EVENTS: Final = {
    "acquire": Event.ACQUIRE,
    "lose": Event.LOSE,
    "change": Event.CHANGE,
    "取得": Event.ACQUIRE,
    "喪失": Event.LOSE,
    "変更": Event.CHANGE,
}
#: 性別: M / F (as J-LIS writes it), 1 / 2 (as the qualification codes it), 男 / 女 → '1' / '2'.
_SEXES: Final = {"M": "1", "F": "2", "1": "1", "2": "2", "男": "1", "女": "2"}
_RELATIONSHIPS: Final = {"1": "1", "2": "2", "本人": "1", "家族": "2"}
#: 一部負担金割合 1, 2, 3 (割) → the qualification codes 010, 020, 030.
_COPAYMENTS: Final = {"1": "010", "2": "020", "3": "030", "1割": "010", "2割": "020", "3割": "030"}
_LOSS_REASONS: Final = {
    "01": "01",
    "02": "02",
    "03": "03",
    "99": "99",
    "1": "01",
    "2": "02",
    "3": "03",
}


@dataclass(frozen=True, slots=True)
class MemberEvent:
    """A valid row. Texts are canonical (:func:`canonical`); '' when not given."""

    line_no: int
    event: Event
    symbol: str  # '' when the card has no 記号 (as qualifications.symbol_key)
    number: str
    branch: str | None
    kanji_name: str
    kana_name: str
    birth_date: date | None
    sex: str | None  # '1' 男, '2' 女
    address: str
    my_number: MyNumber | None = field(repr=False)
    relationship: str | None  # '1' 本人, '2' 家族
    copayment: str | None  # '010', '020', '030'
    acquired_on: date | None
    lost_on: date | None
    loss_reason: str | None  # '01' 死亡, '02' 生活保護, '03' 他保険取得, '99' その他
    notified_on: date


@dataclass(frozen=True, slots=True)
class RowError:
    line_no: int
    field: str  # a column name, or "*" for the whole row
    code: str
    params: Mapping[str, str]


class _InvalidFieldError(Exception):
    def __init__(self, field_name: str, code: str, **params: str) -> None:
        super().__init__(code)
        self.field_name, self.code, self.params = field_name, code, params


def header_columns(fields: Sequence[str]) -> tuple[str, ...] | None:
    """The canonical columns when ``fields`` is exactly the English or the Japanese header
    (a BOM and spaces around a name are ignored), else None."""
    names = tuple(name.lstrip("\ufeff").strip() for name in fields)
    if names == COLUMNS:
        return COLUMNS
    if tuple(unicodedata.normalize("NFKC", name) for name in names) == JAPANESE_HEADER:
        return COLUMNS
    return None


def _plain(raw: str) -> str:
    return unicodedata.normalize("NFKC", raw).strip() if not raw.isascii() else raw.strip()


def _date(field_name: str, raw: str, *, required: bool) -> date | None:
    text = _plain(raw)
    if not text:
        if required:
            raise _InvalidFieldError(field_name, f"registration.row.{field_name}.required")
        return None
    if len(text) != 10 or text[4] != "-" or text[7] != "-" or not text.replace("-", "").isdigit():
        raise _InvalidFieldError(
            field_name, "registration.row.date_format", field=field_name, got=text[:20]
        )
    try:
        return date(int(text[:4]), int(text[5:7]), int(text[8:]))
    except ValueError:
        raise _InvalidFieldError(
            field_name, "registration.row.date_invalid", field=field_name, got=text[:20]
        ) from None


def _choice(field_name: str, raw: str, table: Mapping[str, str], *, required: bool) -> str | None:
    text = _plain(raw)
    if not text:
        if required:
            raise _InvalidFieldError(field_name, f"registration.row.{field_name}.required")
        return None
    value = table.get(text) or table.get(text.upper())
    if value is None:
        raise _InvalidFieldError(field_name, f"registration.row.{field_name}.choice", got=text[:20])
    return value


def _text(field_name: str, raw: str, limit: int, *, required: bool) -> str:
    text = canonical(raw)
    if not text and required:
        raise _InvalidFieldError(field_name, f"registration.row.{field_name}.required")
    if len(text) > limit:
        raise _InvalidFieldError(
            field_name, "registration.row.too_long", field=field_name, expected=str(limit)
        )
    return text


def _kana_allowed(char: str) -> bool:
    return "\u30a1" <= char <= "\u30fc" or char == " "


def _kana(raw: str, *, required: bool) -> str:
    text = _text("kana_name", raw, MAX_KANA_NAME, required=required)
    folded = jaconv.hira2kata(unicodedata.normalize("NFKC", text))
    for char in folded:
        if not _kana_allowed(char):
            raise _InvalidFieldError("kana_name", "registration.row.kana_name.characters", got=char)
    return text


def _identifier(field_name: str, exc: IdentifierError) -> _InvalidFieldError:
    params = {str(k): str(v) for k, v in exc.params.items()}
    return _InvalidFieldError(field_name, exc.code, **params)


def _parse(line_no: int, raw: Sequence[str], today: date) -> MemberEvent:
    (
        event_raw,
        symbol_raw,
        number_raw,
        branch_raw,
        kanji_raw,
        kana_raw,
        birth_raw,
        sex_raw,
        address_raw,
        my_number_raw,
        relationship_raw,
        copayment_raw,
        acquired_raw,
        lost_raw,
        reason_raw,
        notified_raw,
    ) = raw
    event = _EVENTS.get(_plain(event_raw).lower())
    if event is None:
        if not _plain(event_raw):
            raise _InvalidFieldError("event", "registration.row.event.required")
        raise _InvalidFieldError(
            "event", "registration.row.event.choice", got=_plain(event_raw)[:20]
        )
    try:
        symbol = normalize_symbol(symbol_raw) or ""
    except IdentifierError as exc:
        raise _identifier("symbol", exc) from None
    try:
        number = normalize_number(number_raw)
    except IdentifierError as exc:
        raise _identifier("number", exc) from None
    try:
        branch = normalize_branch(branch_raw)
    except IdentifierError as exc:
        raise _identifier("branch", exc) from None
    person = event is not Event.LOSE  # acquire and change carry the 5 items and the terms
    kanji = _text("kanji_name", kanji_raw, MAX_KANJI_NAME, required=person)
    kana = _kana(kana_raw, required=person)
    birth = _date("birth_date", birth_raw, required=person)
    if birth is not None and birth > today:
        raise _InvalidFieldError("birth_date", "registration.row.future", field="birth_date")
    sex = _choice("sex", sex_raw, _SEXES, required=person)
    address = _text("address", address_raw, MAX_ADDRESS, required=False)
    my_number = None
    if my_number_raw.strip():
        try:
            my_number = parse_my_number(my_number_raw)
        except IdentifierError as exc:
            raise _identifier("my_number", exc) from None
    relationship = _choice("relationship", relationship_raw, _RELATIONSHIPS, required=person)
    copayment = _choice("copayment", copayment_raw, _COPAYMENTS, required=person)
    acquired = _date("acquired_on", acquired_raw, required=event is Event.ACQUIRE)
    lost = _date("lost_on", lost_raw, required=event is Event.LOSE)
    if acquired is not None and lost is not None and lost < acquired:
        raise _InvalidFieldError("lost_on", "registration.row.lost_on.order")
    reason = _choice("loss_reason", reason_raw, _LOSS_REASONS, required=event is Event.LOSE)
    notified = _date("notified_on", notified_raw, required=True) or today  # required: never ''
    if notified > today:
        raise _InvalidFieldError("notified_on", "registration.row.future", field="notified_on")
    return MemberEvent(
        line_no,
        event,
        symbol,
        number,
        branch,
        kanji,
        kana,
        birth,
        sex,
        address,
        my_number,
        relationship,
        copayment,
        acquired,
        lost,
        reason,
        notified,
    )


def parse_fields(line_no: int, fields: Sequence[str], *, today: date) -> MemberEvent | RowError:
    """One CSV record (in :data:`COLUMNS` order): the event, or the first field's error."""
    if len(fields) != len(COLUMNS):
        return RowError(
            line_no,
            "*",
            "registration.row.column_count",
            {"expected": str(len(COLUMNS)), "got": str(len(fields))},
        )
    try:
        return _parse(line_no, fields, today)
    except _InvalidFieldError as exc:
        return RowError(line_no, exc.field_name, exc.code, exc.params)


def parse_mapping(
    line_no: int, values: Mapping[str, object], *, today: date
) -> MemberEvent | RowError:
    """A row given as a JSON object ``{column: string or null}``; unknown keys are errors."""
    unknown = sorted(str(key) for key in values if key not in COLUMNS)
    if unknown:
        return RowError(line_no, unknown[0][:40], "registration.row.unknown_field", {})
    fields: list[str] = []
    for name in COLUMNS:
        value = values.get(name)
        if value is not None and not isinstance(value, str):
            return RowError(line_no, name, "registration.row.field_type", {"field": name})
        fields.append(value or "")
    return parse_fields(line_no, fields, today=today)
