"""Shared input clean-up: full-width to half-width, spaces and hyphens."""

from __future__ import annotations

import unicodedata

from onshi.identifiers.errors import IdentifierError

#: Characters typed or printed as a hyphen: katakana prolonged sound mark (full and half width),
#: hyphen-minus (full width, small), hyphen, non-breaking hyphen, figure dash, en and em dash,
#: horizontal bar, minus sign.
HYPHENS = "ー－ｰ‐‑‒–—―−﹣"
_HYPHEN_TABLE = str.maketrans(dict.fromkeys(HYPHENS, "-"))


def unify(raw: str) -> str:
    """NFKC (full-width digits and letters → half-width, half-width kana → full-width), every
    hyphen-like character → ``-``, every space (including U+3000) removed."""
    text = unicodedata.normalize("NFKC", raw).translate(_HYPHEN_TABLE)
    return "".join(char for char in text if not char.isspace())


def digits(raw: str | None, field: str, expected_length: str) -> str:
    """``raw`` as ASCII digits (spaces and hyphens dropped) or an IdentifierError.

    Raises ``<field>.required`` for an empty value and ``<field>.characters`` for anything but
    digits; ``got`` is the first offending character only.
    """
    text = unify(raw or "").replace("-", "")
    if not text:
        raise IdentifierError(f"{field}.required", field=field, expected=expected_length, got="")
    for char in text:
        if not ("0" <= char <= "9"):
            raise IdentifierError(f"{field}.characters", field=field, expected="0-9", got=char)
    return text


def check_length(text: str, field: str, allowed: tuple[int, ...]) -> None:
    if len(text) not in allowed:
        raise IdentifierError(
            f"{field}.length",
            field=field,
            expected="/".join(str(n) for n in allowed),
            got=str(len(text)),
        )
