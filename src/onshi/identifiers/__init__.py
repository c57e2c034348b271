"""Identifiers of the health-insurance system: parse, normalise and check.

Every ``parse_*`` function accepts what a person types or a card prints (full-width digits,
spaces, hyphens), returns a small frozen dataclass, or raises :class:`IdentifierError` whose
``code`` names the field and the rule (``insurer_number.check_digit``) and whose params are
``field``, ``expected`` and ``got``. Japanese and English texts: ``messages.toml``
(:func:`messages`). Pure Python: no web or database imports.
"""

from __future__ import annotations

from onshi.identifiers.card import (
    CardIdentity,
    key_of,
    normalize_branch,
    normalize_number,
    normalize_symbol,
    number_key,
    parse_card_identity,
    symbol_key,
)
from onshi.identifiers.catalogue import messages, render
from onshi.identifiers.checkdigit import luhn_check_digit, my_number_check_digit
from onshi.identifiers.errors import ERROR_CODES, IdentifierError
from onshi.identifiers.institution import InstitutionCode, ScoreTable, parse_institution_code
from onshi.identifiers.insurer import (
    HOUBETSU,
    UNKNOWN_INSURER_NUMBERS,
    ElderlyInsuredNumber,
    InsurerKind,
    InsurerNumber,
    parse_elderly_insured_number,
    parse_insurer_number,
)
from onshi.identifiers.my_number import MyNumber, my_number_hash, parse_my_number
from onshi.identifiers.public_expense import (
    PUBLIC_PROGRAMS,
    PublicPayerNumber,
    RecipientNumber,
    parse_public_payer_number,
    parse_recipient_number,
)

__all__ = [
    "ERROR_CODES",
    "HOUBETSU",
    "PUBLIC_PROGRAMS",
    "UNKNOWN_INSURER_NUMBERS",
    "CardIdentity",
    "ElderlyInsuredNumber",
    "IdentifierError",
    "InstitutionCode",
    "InsurerKind",
    "InsurerNumber",
    "MyNumber",
    "PublicPayerNumber",
    "RecipientNumber",
    "ScoreTable",
    "key_of",
    "luhn_check_digit",
    "messages",
    "my_number_check_digit",
    "my_number_hash",
    "normalize_branch",
    "normalize_number",
    "normalize_symbol",
    "number_key",
    "parse_card_identity",
    "parse_elderly_insured_number",
    "parse_institution_code",
    "parse_insurer_number",
    "parse_my_number",
    "parse_public_payer_number",
    "parse_recipient_number",
    "render",
    "symbol_key",
]
