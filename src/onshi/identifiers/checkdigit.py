"""Check-digit algorithms.

* :func:`luhn_check_digit`: 保険者番号, 医療機関コード, 公費負担者番号, 受給者番号.
  Weights 2, 1, 2, … from the rightmost payload digit; the digits of each product are
  summed; the check digit is ``(10 - sum % 10) % 10``.
* :func:`my_number_check_digit`: 個人番号 (番号法施行令 第8条).
  Weights 2–7 for the six payload digits nearest the check digit, then 2–6; with r the
  weighted sum mod 11, the check digit is 0 when r ≤ 1, else ``11 - r``.
"""

from __future__ import annotations


def _require_digits(payload: str) -> None:
    if not payload or not (payload.isascii() and payload.isdigit()):
        raise ValueError(f"payload must be ASCII digits, got {payload!r}")


def luhn_check_digit(payload: str) -> int:
    """The Luhn (mod 10, weights 2-1) check digit of ``payload``."""
    _require_digits(payload)
    total = 0
    for position, char in enumerate(reversed(payload)):
        digit = ord(char) - 48
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def my_number_check_digit(payload: str) -> int:
    """The check digit of an 11-digit My Number payload."""
    _require_digits(payload)
    if len(payload) != 11:
        raise ValueError("a My Number payload has 11 digits")
    total = 0
    for n, char in enumerate(reversed(payload), start=1):
        weight = n + 1 if n <= 6 else n - 5
        total += (ord(char) - 48) * weight
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder
