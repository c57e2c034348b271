"""個人番号 (My Number): check digit and keyed hashing.

My Number is never stored or logged in plain text (番号法): store :func:`my_number_hash` — an
HMAC-SHA256 under a server secret — and compare hashes. :class:`MyNumber` hides its value from
``repr`` so that it does not leak into logs or tracebacks, and errors never echo the number.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from onshi.identifiers._text import check_length, digits
from onshi.identifiers.checkdigit import my_number_check_digit
from onshi.identifiers.errors import IdentifierError

_FIELD = "my_number"


@dataclass(frozen=True, slots=True)
class MyNumber:
    """A 12-digit 個人番号 whose check digit is valid. ``repr`` never shows the value."""

    value: str = field(repr=False)

    def hash(self, key: str | bytes) -> str:
        return _hmac_hex(key, self.value)


def parse_my_number(raw: str | None) -> MyNumber:
    """Normalise (full-width digits, spaces, hyphens) and check a My Number.

    Error codes: ``my_number.required``, ``.characters``, ``.length``, ``.check_digit``.
    """
    value = digits(raw, _FIELD, "12")
    check_length(value, _FIELD, (12,))
    expected = my_number_check_digit(value[:11])
    if int(value[11]) != expected:
        raise IdentifierError(
            "my_number.check_digit", field=_FIELD, expected=str(expected), got=value[11]
        )
    return MyNumber(value=value)


def _hmac_hex(key: str | bytes, value: str) -> str:
    secret = key.encode("utf-8") if isinstance(key, str) else key
    if not secret:
        raise ValueError("the My Number hashing key must not be empty")
    return hmac.new(secret, value.encode("ascii"), hashlib.sha256).hexdigest()


def my_number_hash(key: str | bytes, number: str) -> str:
    """HMAC-SHA256 (lower-case hex) of a checked My Number under ``key``.

    The number is normalised and its check digit verified first (IdentifierError otherwise), so
    ``"1234 5678 9018"`` and ``"123456789018"`` hash alike. An empty key is a configuration
    error (ValueError).
    """
    return parse_my_number(number).hash(key)
