"""Reading a SIMULATED J-LIS resident file (``onshi simulated-jlis load FILE.csv``).

The file is UTF-8 (a byte-order mark is accepted) CSV whose first line is exactly
``my_number,kanji_name,kana_name,birth_date,sex,address``. Each later line is one resident:

* ``my_number``: 12 digits with a valid check digit (full-width digits, spaces and hyphens are
  accepted and removed, as everywhere else); only its keyed hash is kept;
* ``kanji_name`` / ``kana_name``: split into family and given name on the first space (half- or
  full-width); with no space the whole name is the family name and the given name is empty.
  カナ氏名 is normalised with NFKC (half-width katakana becomes full-width) and must then be
  katakana (ー and ・ allowed);
* ``birth_date``: ``YYYY-MM-DD``, a real date, not after today (Japan time);
* ``sex``: ``M`` or ``F``;
* ``address``: as written; its 都道府県 is recorded when the address begins with one.

Completely empty lines are skipped. Every bad line is reported (line numbers count physical
lines, the header is line 1) and then nothing is loaded. A 個人番号 twice in one file is an
error on its second line.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from onshi import reference
from onshi.identifiers import render
from onshi.identifiers.errors import IdentifierError
from onshi.identifiers.my_number import parse_my_number
from onshi.identity.models import Sex

HEADER = ("my_number", "kanji_name", "kana_name", "birth_date", "sex", "address")
HEADER_TEXT = ",".join(HEADER)
LANGUAGES = ("ja", "en")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_SPACE = re.compile(r"[ \u3000]")
_SEXES = {"M": Sex.MALE, "F": Sex.FEMALE}
_KANA_EXTRA = frozenset("ー・ヽヾ \u3000")


@dataclass(frozen=True)
class Problem:
    """One reason the file cannot be loaded: a message code and its parameters."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def text(self, language: str) -> str:
        params = {
            name: value[language] if isinstance(value, dict) else value
            for name, value in self.params.items()
        }
        return message(self.code, language, **params)


@dataclass(frozen=True)
class ResidentRow:
    line: int
    my_number_hash: str
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: date
    sex: Sex
    address: str
    prefecture_code: str | None

    def __repr__(self) -> str:  # no personal data in logs or tracebacks
        return f"ResidentRow(line={self.line})"


@dataclass
class ParsedFile:
    rows: list[ResidentRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@cache
def _catalogue() -> dict[str, dict[str, str]]:
    text = resources.files("onshi.jlis").joinpath("messages.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    return {language: dict(data[language]) for language in LANGUAGES}


def message(code: str, language: str = "ja", **params: Any) -> str:
    return _catalogue()[language if language in LANGUAGES else "ja"][code].format(**params)


def parse_resident_file(data: bytes, *, my_number_key: str, today: date) -> ParsedFile:
    """Check every line of ``data``; ``problems`` is empty only when all of it can be loaded."""
    result = ParsedFile()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        result.problems.append(Problem("jlis.file.encoding", {"line": line}))
        return result
    if not text.strip():
        result.problems.append(Problem("jlis.file.empty", {"header": HEADER_TEXT}))
        return result
    seen: dict[str, int] = {}
    try:
        for line, fields in _records(text):
            if line == 1:
                if tuple(fields) != HEADER:
                    got = ",".join(fields)[:200]
                    result.problems.append(
                        Problem("jlis.file.header", {"header": HEADER_TEXT, "got": got})
                    )
                    return result
                continue
            row = _row(line, fields, my_number_key, today, result.problems)
            if row is None:
                continue
            first = seen.setdefault(row.my_number_hash, line)
            if first != line:
                result.problems.append(
                    Problem("jlis.row.my_number_repeated", {"line": line, "first": first})
                )
                continue
            result.rows.append(row)
    except _LineError as exc:
        result.problems.append(Problem("jlis.file.csv", {"line": exc.line, "reason": exc.reason}))
    return result


class _LineError(Exception):
    def __init__(self, reason: str, line: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(first physical line, fields) of each non-empty record."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _LineError(str(exc), start) from None
        if fields and any(value.strip() for value in fields):
            yield start, fields
        start = reader.line_num + 1


def _row(
    line: int, fields: list[str], key: str, today: date, problems: list[Problem]
) -> ResidentRow | None:
    if len(fields) != len(HEADER):
        problems.append(Problem("jlis.row.columns", {"line": line, "got": len(fields)}))
        return None
    raw_number, kanji, kana, raw_birth, raw_sex, raw_address = (value.strip() for value in fields)
    before = len(problems)
    number_hash = ""
    try:
        number_hash = parse_my_number(raw_number).hash(key)
    except IdentifierError as exc:
        detail = {language: render(exc.code, language, **exc.params) for language in LANGUAGES}
        problems.append(Problem("jlis.row.my_number", {"line": line, "detail": detail}))
    family, given = _name(line, "kanji_name", kanji, 64, problems)
    family_kana, given_kana = _kana(line, kana, problems)
    birth = _birth_date(line, raw_birth, today, problems)
    sex = _SEXES.get(raw_sex)
    if sex is None:
        problems.append(Problem("jlis.row.sex.format", {"line": line, "got": raw_sex[:20]}))
    if not raw_address:
        problems.append(Problem("jlis.row.address.required", {"line": line}))
    elif len(raw_address) > 256:
        problems.append(Problem("jlis.row.address.length", {"line": line}))
    if len(problems) != before or birth is None or sex is None:
        return None
    return ResidentRow(
        line=line,
        my_number_hash=number_hash,
        family_name=family,
        given_name=given,
        family_name_kana=family_kana,
        given_name_kana=given_kana,
        birth_date=birth,
        sex=sex,
        address=raw_address,
        prefecture_code=prefecture_of(raw_address),
    )


def split_name(name: str) -> tuple[str, str]:
    """Family and given name: split on the first half- or full-width space."""
    parts = _SPACE.split(name.strip(), maxsplit=1)
    family = parts[0].strip()
    given = parts[1].strip() if len(parts) > 1 else ""
    return family, given


def _name(
    line: int, column: str, value: str, limit: int, problems: list[Problem]
) -> tuple[str, str]:
    if not value:
        problems.append(Problem(f"jlis.row.{column}.required", {"line": line}))
        return "", ""
    if any(unicodedata.category(char) == "Cc" for char in value):
        problems.append(Problem(f"jlis.row.{column}.characters", {"line": line}))
        return "", ""
    family, given = split_name(value)
    if len(family) > limit or len(given) > limit:
        problems.append(Problem(f"jlis.row.{column}.length", {"line": line}))
    return family, given


def _kana(line: int, value: str, problems: list[Problem]) -> tuple[str, str]:
    normalised = unicodedata.normalize("NFKC", value)
    for char in normalised:
        if not ("\u30a1" <= char <= "\u30fa" or char in _KANA_EXTRA):
            problems.append(Problem("jlis.row.kana_name.characters", {"line": line, "got": char}))
            return "", ""
    return _name(line, "kana_name", normalised, 128, problems)


def _birth_date(line: int, value: str, today: date, problems: list[Problem]) -> date | None:
    parsed: date | None = None
    if _DATE.fullmatch(value):
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            parsed = None
    if parsed is None:
        problems.append(Problem("jlis.row.birth_date.format", {"line": line, "got": value[:20]}))
        return None
    if parsed > today:
        problems.append(Problem("jlis.row.birth_date.future", {"line": line, "got": value}))
        return None
    return parsed


def prefecture_of(address: str) -> str | None:
    """The 都道府県 code when ``address`` begins with a prefecture's name (e.g. 東京都…)."""
    normalised = unicodedata.normalize("NFKC", address).lstrip()
    found: tuple[int, str] | None = None  # the first prefecture of the list that matches
    for length, names in _prefecture_names():
        hit = names.get(normalised[:length])
        if hit is not None and (found is None or hit < found):
            found = hit
    return None if found is None else found[1]


@cache
def _prefecture_names() -> tuple[tuple[int, dict[str, tuple[int, str]]], ...]:
    """The prefectures' names by length: ``{name: (position in the list, code)}``."""
    by_length: dict[int, dict[str, tuple[int, str]]] = {}
    for index, prefecture in enumerate(reference.prefectures()):
        by_length.setdefault(len(prefecture.name), {}).setdefault(
            prefecture.name, (index, prefecture.code)
        )
    return tuple(sorted(by_length.items()))
