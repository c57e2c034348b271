"""公費負担者番号 (public-expense payer number, 8 digits) and 受給者番号 (recipient number, 7).

公費負担者番号 = 法別番号 2 + 都道府県番号 2 + 実施機関番号 3 + 検証番号 1; 受給者番号 = 6 digits +
検証番号 1. Both check digits are Luhn. 法別 numbers 80 and above are set by each prefecture or
municipality for its own programmes, so the 法別 is not checked against a list; ``program`` is a
hint for the nationally defined ones only.
"""

from __future__ import annotations

from dataclasses import dataclass

from onshi.identifiers._prefecture import check_prefecture
from onshi.identifiers._text import check_length, digits
from onshi.identifiers.checkdigit import luhn_check_digit
from onshi.identifiers.errors import IdentifierError

#: Nationally defined 公費 法別番号 (a hint, not a closed list).
PUBLIC_PROGRAMS: dict[str, str] = {
    "10": "感染症法 結核患者の適正医療",
    "11": "感染症法 結核患者の入院",
    "12": "生活保護法 医療扶助",
    "15": "障害者総合支援法 更生医療",
    "16": "障害者総合支援法 育成医療",
    "18": "原爆被爆者 認定疾病医療",
    "19": "原爆被爆者 一般疾病医療",
    "21": "障害者総合支援法 精神通院医療",
    "23": "母子保健法 養育医療",
    "38": "肝炎治療特別促進事業",
    "51": "特定疾患治療研究事業",
    "52": "児童福祉法 小児慢性特定疾病医療支援",
    "54": "難病法 特定医療",
}

PUBLIC_ASSISTANCE_HOUBETSU = "12"


@dataclass(frozen=True, slots=True)
class PublicPayerNumber:
    """A checked 公費負担者番号."""

    value: str
    houbetsu: str
    prefecture_code: str
    agency: str
    check_digit: str

    @property
    def program(self) -> str | None:
        """The national programme of this 法別, if it is one of :data:`PUBLIC_PROGRAMS`."""
        return PUBLIC_PROGRAMS.get(self.houbetsu)

    @property
    def is_public_assistance(self) -> bool:
        """生活保護 (法別 12)."""
        return self.houbetsu == PUBLIC_ASSISTANCE_HOUBETSU


def _check(value: str, field: str) -> None:
    expected = luhn_check_digit(value[:-1])
    if int(value[-1]) != expected:
        raise IdentifierError(
            f"{field}.check_digit", field=field, expected=str(expected), got=value[-1]
        )


def parse_public_payer_number(raw: str | None) -> PublicPayerNumber:
    """Normalise and check a 公費負担者番号.

    Error codes: ``public_payer_number.required``, ``.characters``, ``.length``,
    ``.prefecture``, ``.check_digit``.
    """
    field = "public_payer_number"
    value = digits(raw, field, "8")
    check_length(value, field, (8,))
    check_prefecture(value[2:4], field)
    _check(value, field)
    return PublicPayerNumber(
        value=value,
        houbetsu=value[:2],
        prefecture_code=value[2:4],
        agency=value[4:7],
        check_digit=value[7],
    )


@dataclass(frozen=True, slots=True)
class RecipientNumber:
    """A checked 公費 受給者番号."""

    value: str
    check_digit: str


def parse_recipient_number(raw: str | None) -> RecipientNumber:
    """Normalise and check a 受給者番号.

    Error codes: ``recipient_number.required``, ``.characters``, ``.length``, ``.check_digit``.
    """
    field = "recipient_number"
    value = digits(raw, field, "7")
    check_length(value, field, (7,))
    _check(value, field)
    return RecipientNumber(value=value, check_digit=value[6])
