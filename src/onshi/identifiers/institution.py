"""医療機関コード (institution code, 10 digits).

都道府県番号 2 + 点数表番号 1 (1 医科, 3 歯科, 4 調剤) + 郡市区番号 2 + 医療機関番号 4 + 検証番号 1.
The 検証番号 is the Luhn check digit of the first nine digits (the 7-digit code printed on
receipts is computed together with the prefecture and 点数表 numbers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from onshi import reference
from onshi.identifiers._prefecture import check_prefecture
from onshi.identifiers._text import check_length, digits
from onshi.identifiers.checkdigit import luhn_check_digit
from onshi.identifiers.errors import IdentifierError

ScoreTable = Literal["medical", "dental", "pharmacy"]

#: 点数表番号 → the kind of institution.
SCORE_TABLES: dict[str, ScoreTable] = {"1": "medical", "3": "dental", "4": "pharmacy"}

_FIELD = "institution_code"


@dataclass(frozen=True, slots=True)
class InstitutionCode:
    """A checked 10-digit 医療機関コード."""

    value: str
    prefecture_code: str
    score_table: ScoreTable
    district: str
    serial: str
    check_digit: str

    @property
    def short_code(self) -> str:
        """The 7-digit code (郡市区 + 番号 + 検証) printed on claims."""
        return self.value[3:]

    @property
    def prefecture(self) -> reference.Prefecture | None:
        return reference.prefecture(self.prefecture_code)


def parse_institution_code(raw: str | None) -> InstitutionCode:
    """Normalise (full-width digits, spaces, hyphens) and check a 医療機関コード.

    Error codes: ``institution_code.required``, ``.characters``, ``.length``, ``.prefecture``,
    ``.score_table``, ``.check_digit``.
    """
    value = digits(raw, _FIELD, "10")
    check_length(value, _FIELD, (10,))
    check_prefecture(value[:2], _FIELD)
    score_table = SCORE_TABLES.get(value[2])
    if score_table is None:
        raise IdentifierError(
            "institution_code.score_table",
            field=_FIELD,
            expected="/".join(SCORE_TABLES),
            got=value[2],
        )
    expected = luhn_check_digit(value[:9])
    if int(value[9]) != expected:
        raise IdentifierError(
            "institution_code.check_digit", field=_FIELD, expected=str(expected), got=value[9]
        )
    return InstitutionCode(
        value=value,
        prefecture_code=value[:2],
        score_table=score_table,
        district=value[3:5],
        serial=value[5:9],
        check_digit=value[9],
    )
