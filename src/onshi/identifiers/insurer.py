"""保険者番号 (insurer number) and 後期高齢者 被保険者番号.

保険者番号 has 8 digits — 法別番号 2 + 都道府県番号 2 + 保険者別番号 3 + 検証番号 1 —
or, for 市町村国保 and 国保組合, 6 digits — 都道府県番号 2 + 保険者別番号 3 + 検証番号 1.
The 検証番号 is the Luhn check digit of the preceding digits.

The 不詳 claim number is 77777777, written 77777779 where software enforces the
check digit. 法別 77 is not a real 法別, so both are refused unless the caller asks for the 不詳
path with ``allow_unknown=True``; they then parse with ``kind == "unknown_claim"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from onshi import reference
from onshi.identifiers._prefecture import check_prefecture
from onshi.identifiers._text import check_length, digits
from onshi.identifiers.checkdigit import luhn_check_digit
from onshi.identifiers.errors import IdentifierError

InsurerKind = Literal[
    "kyokai_kenpo",  # 01 協会けんぽ
    "seamen",  # 02 船員保険
    "day_labourer",  # 03, 04 日雇特例被保険者
    "health_insurance_society",  # 06 健康保険組合
    "self_defense_forces",  # 07 自衛官等
    "mutual_aid",  # 31–34 共済組合
    "late_elderly",  # 39 後期高齢者医療広域連合
    "retiree_medical",  # 67 退職者医療 (国保)
    "special_retiree",  # 63, 72–75 特例退職被保険者
    "national_health_insurance",  # 6 digits: 市町村国保 or 国保組合
    "unknown_claim",  # 77777777 / 77777779: 不詳
]

#: 法別番号 of 8-digit 保険者番号 (医療保険各法), with the kind each implies.
HOUBETSU: dict[str, InsurerKind] = {
    "01": "kyokai_kenpo",
    "02": "seamen",
    "03": "day_labourer",
    "04": "day_labourer",
    "06": "health_insurance_society",
    "07": "self_defense_forces",
    "31": "mutual_aid",
    "32": "mutual_aid",
    "33": "mutual_aid",
    "34": "mutual_aid",
    "39": "late_elderly",
    "63": "special_retiree",
    "67": "retiree_medical",
    "72": "special_retiree",
    "73": "special_retiree",
    "74": "special_retiree",
    "75": "special_retiree",
}

#: 不詳 claim numbers: as printed in the rules, and with a valid check digit.
UNKNOWN_INSURER_NUMBERS: frozenset[str] = frozenset({"77777777", "77777779"})

_FIELD = "insurer_number"


@dataclass(frozen=True, slots=True)
class InsurerNumber:
    """A checked 保険者番号.

    ``houbetsu`` is ``None`` for a 6-digit 国保 number and for the 不詳 number;
    ``prefecture_code`` is ``None`` only for the 不詳 number.
    """

    value: str
    houbetsu: str | None
    prefecture_code: str | None
    insurer_part: str
    check_digit: str
    kind: InsurerKind

    @property
    def is_unknown_claim(self) -> bool:
        return self.kind == "unknown_claim"

    @property
    def prefecture(self) -> reference.Prefecture | None:
        return reference.prefecture(self.prefecture_code) if self.prefecture_code else None


def parse_insurer_number(raw: str | None, *, allow_unknown: bool = False) -> InsurerNumber:
    """Normalise (full-width digits, spaces, hyphens) and check a 保険者番号.

    Error codes: ``insurer_number.required``, ``.characters``, ``.length``, ``.houbetsu``,
    ``.prefecture``, ``.check_digit``, ``.unknown_not_allowed``.
    """
    value = digits(raw, _FIELD, "6/8")
    check_length(value, _FIELD, (6, 8))
    if value in UNKNOWN_INSURER_NUMBERS:
        if not allow_unknown:
            raise IdentifierError(
                "insurer_number.unknown_not_allowed", field=_FIELD, expected="", got=value
            )
        return InsurerNumber(
            value=value,
            houbetsu=None,
            prefecture_code=None,
            insurer_part=value[4:7],
            check_digit=value[7],
            kind="unknown_claim",
        )
    houbetsu: str | None
    kind: InsurerKind
    if len(value) == 8:
        houbetsu, rest = value[:2], value[2:]
        known = HOUBETSU.get(houbetsu)
        if known is None:
            raise IdentifierError(
                "insurer_number.houbetsu",
                field=_FIELD,
                expected=", ".join(HOUBETSU),
                got=houbetsu,
            )
        kind = known
    else:
        houbetsu, rest = None, value
        kind = "national_health_insurance"
    prefecture_code = rest[:2]
    check_prefecture(prefecture_code, _FIELD)
    expected = luhn_check_digit(value[:-1])
    if int(value[-1]) != expected:
        raise IdentifierError(
            "insurer_number.check_digit", field=_FIELD, expected=str(expected), got=value[-1]
        )
    return InsurerNumber(
        value=value,
        houbetsu=houbetsu,
        prefecture_code=prefecture_code,
        insurer_part=rest[2:5],
        check_digit=value[-1],
        kind=kind,
    )


@dataclass(frozen=True, slots=True)
class ElderlyInsuredNumber:
    """後期高齢者医療 被保険者番号: 8 digits, one per person (no 記号, no 枝番).

    Only the format is checked: whether the last digit is a check digit, and how it would be
    computed, is not confirmed by any published source we hold, so no check digit
    is enforced.
    """

    value: str


def parse_elderly_insured_number(raw: str | None) -> ElderlyInsuredNumber:
    """Normalise and check the format of a 後期高齢者 被保険者番号.

    Error codes: ``elderly_insured_number.required``, ``.characters``, ``.length``.
    """
    field = "elderly_insured_number"
    value = digits(raw, field, "8")
    check_length(value, field, (8,))
    return ElderlyInsuredNumber(value=value)
