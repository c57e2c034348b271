"""記号・番号・枝番 of an insurance card (or 資格確認書), normalised for lookups.

Each part is cleaned the same way: NFKC (full-width digits and letters → half-width, half-width
katakana → full-width), hiragana → katakana, every hyphen-like character (ー－ｰ‐‑‒–—―−﹣) → ``-``,
every space (including the full-width U+3000) removed, Latin letters upper-cased. What may
remain: digits, A–Z, ``-``, full-width katakana and kanji (some 国保 and 国保組合 記号 print kana
or kanji). 記号 and 番号 are limited to 38 bytes as in the claim (レセプト) record, counting
half-width characters as 1 byte and others as 2.

Lookup keys (:func:`symbol_key`, :func:`number_key`) are the normalised values without their
hyphens: a hyphen in a printed 記号 or 番号 is layout, not part of the identifier, so
"123-45", "12345" and "１２３－４５" are the same 番号 on every path (card check answer, 記号番号
lookup, 一括照会, registration). docs/identity-chain.md gives the reasons.

枝番 is the 2-digit personal branch number. The national specification defines it as a fixed
2-digit field and sets no rule to pad a 1-digit value, so a 1-digit 枝番 is rejected
(``branch.format``) rather than guessed; cards issued before 2021 may have none (``None``).
"""

from __future__ import annotations

from dataclasses import dataclass

import jaconv

from onshi.identifiers._text import unify
from onshi.identifiers.errors import IdentifierError

MAX_BYTES = 38


def _allowed(char: str) -> bool:
    return (
        "0" <= char <= "9"
        or "A" <= char <= "Z"
        or char == "-"
        or "\u30a1" <= char <= "\u30fa"  # katakana ァ–ヺ
        or "\u4e00" <= char <= "\u9fff"  # CJK unified ideographs
        or char in "々〆ヵヶ"
    )


def _clean(raw: str) -> str:
    if raw.isascii() and raw.isalnum():  # the common case: nothing to unify or fold
        return raw.upper()
    text = jaconv.hira2kata(unify(raw))
    return "".join(char.upper() if char.isascii() else char for char in text)


def _byte_length(text: str) -> int:
    return sum(1 if char.isascii() else 2 for char in text)


def _check_text(text: str, field: str) -> None:
    for char in text:
        if not _allowed(char):
            raise IdentifierError(
                f"{field}.characters", field=field, expected="0-9 A-Z - カナ 漢字", got=char
            )
    if _byte_length(text) > MAX_BYTES:
        raise IdentifierError(
            f"{field}.length", field=field, expected=str(MAX_BYTES), got=str(_byte_length(text))
        )


def normalize_symbol(raw: str | None) -> str | None:
    """記号, normalised; ``None`` when omitted (後期高齢者, 不詳, some cards have none).

    Error codes: ``symbol.characters``, ``symbol.length``.
    """
    text = _clean(raw or "")
    if not text.strip("-"):
        return None
    _check_text(text, "symbol")
    return text


def normalize_number(raw: str | None) -> str:
    """番号, normalised.

    Error codes: ``number.required``, ``number.characters``, ``number.length``.
    """
    text = _clean(raw or "")
    if not text.strip("-"):
        raise IdentifierError("number.required", field="number", expected="", got="")
    _check_text(text, "number")
    return text


def key_of(normalized: str) -> str:
    """The lookup key of a 記号 or 番号 already normalised (:func:`normalize_symbol`,
    :func:`normalize_number`): the hyphens are layout, dropped."""
    return normalized.replace("-", "")


def symbol_key(raw: str | None) -> str:
    """The lookup key of a 記号: :func:`normalize_symbol` without hyphens; '' when omitted."""
    return key_of(normalize_symbol(raw) or "")


def number_key(raw: str | None) -> str:
    """The lookup key of a 番号: :func:`normalize_number` without hyphens."""
    return key_of(normalize_number(raw))


def normalize_branch(raw: str | None) -> str | None:
    """枝番 as exactly two ASCII digits, or ``None`` when not given.

    Error code: ``branch.format``.
    """
    text = unify(raw or "")
    if not text:
        return None
    if len(text) != 2 or not all("0" <= char <= "9" for char in text):
        raise IdentifierError("branch.format", field="branch", expected="00-99", got=text)
    return text


@dataclass(frozen=True, slots=True)
class CardIdentity:
    """記号・番号・枝番 as used to look a person up (``symbol`` and ``branch`` may be absent)."""

    symbol: str | None
    number: str
    branch: str | None


def parse_card_identity(
    symbol: str | None, number: str | None, branch: str | None = None
) -> CardIdentity:
    """Normalise all three parts; the first failing part raises its IdentifierError."""
    return CardIdentity(
        symbol=normalize_symbol(symbol),
        number=normalize_number(number),
        branch=normalize_branch(branch),
    )
