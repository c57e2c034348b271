"""The identifier error and the registry of its codes.

Every code is ``<field>.<rule>``; its Japanese and English text lives in ``messages.toml`` beside
this file. Parameters are always ``field``, ``expected`` and ``got`` (strings); ``got`` never
carries a whole My Number.
"""

from __future__ import annotations

from onshi.errors import DomainError

#: Every code an :class:`IdentifierError` may carry.
ERROR_CODES: frozenset[str] = frozenset(
    {
        # 保険者番号
        "insurer_number.required",
        "insurer_number.characters",
        "insurer_number.length",
        "insurer_number.houbetsu",
        "insurer_number.prefecture",
        "insurer_number.check_digit",
        "insurer_number.unknown_not_allowed",
        # 医療機関コード
        "institution_code.required",
        "institution_code.characters",
        "institution_code.length",
        "institution_code.prefecture",
        "institution_code.score_table",
        "institution_code.check_digit",
        # 公費負担者番号
        "public_payer_number.required",
        "public_payer_number.characters",
        "public_payer_number.length",
        "public_payer_number.prefecture",
        "public_payer_number.check_digit",
        # 公費 受給者番号
        "recipient_number.required",
        "recipient_number.characters",
        "recipient_number.length",
        "recipient_number.check_digit",
        # 後期高齢者 被保険者番号
        "elderly_insured_number.required",
        "elderly_insured_number.characters",
        "elderly_insured_number.length",
        # 個人番号
        "my_number.required",
        "my_number.characters",
        "my_number.length",
        "my_number.check_digit",
        # 記号・番号・枝番
        "symbol.characters",
        "symbol.length",
        "number.required",
        "number.characters",
        "number.length",
        "branch.format",
    }
)


class IdentifierError(DomainError):
    """An identifier that is malformed or fails its check digit.

    ``code`` names the field and the rule (``insurer_number.check_digit``); ``params`` holds
    ``field``, ``expected`` and ``got``.
    """

    code = "identifier"

    def __init__(self, code: str, /, *, field: str, expected: str, got: str) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unregistered identifier error code {code!r}")
        super().__init__(code, field=field, expected=expected, got=got)
        self.field = field
        self.expected = expected
        self.got = got
