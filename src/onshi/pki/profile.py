"""The JPKI-like certificate profile and its calendar rules (pure functions, no I/O).

Validity of a 利用者証明用電子証明書: from the day of issue until the 5th birthday after issue.

Rules chosen here (documented because the statute text leaves them implicit):

* "After issue" is strict: a birthday falling on the issue day itself is not counted, so a
  certificate issued on a birthday runs until the birthday five years later.
* A person born on 29 February has a birthday on 28 February in common years. This follows the
  civil-law age reckoning (年齢計算ニ関スル法律 with 民法 143: a year ends on the day before the
  anniversary date, and 1 March minus one day is 28 February), and keeps the certificate from
  outliving the legal anniversary.
* The certificate is valid until the end of that day in Japan time (23:59:59 JST); it starts at
  the beginning of the issue day in Japan time.
* Month arithmetic for the grace and warning windows is calendar arithmetic on JST dates,
  clamped to the last day of a shorter month (31 May + 3 months = 31 August; 30 November +
  3 months = 29 February in a leap year, else 28 February).
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time
from typing import Final

from cryptography import x509
from cryptography.x509.oid import NameOID

from onshi.clock import JST

#: Certificate policy of development user-authentication certificates. An OID under the
#: ITU-T X.667 UUID arc (2.25), so it can never collide with the real JPKI policy
#: (1.2.392.200149.8.5.1.3.30) and is recognisably not a production policy.
DEVELOPMENT_USER_AUTH_POLICY: Final = x509.ObjectIdentifier(
    "2.25.227286712651153349186470592359339712513"
)
DEVELOPMENT_CPS_NOTICE: Final = "Onshi development PKI: synthetic persons only, never trust"

DEVELOPMENT_CA_NAME: Final = x509.Name(
    [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Onshi Development"),
        x509.NameAttribute(NameOID.COMMON_NAME, "Onshi Development JPKI User Authentication CA"),
    ]
)

CARD_CERTIFICATE_YEARS: Final = 5
RSA_KEY_SIZE: Final = 2048
MIN_RSA_KEY_SIZE: Final = 2048


def birthday_in(year: int, birth_date: date) -> date:
    """The birthday of ``birth_date`` in ``year`` (29 February → 28 February in common years)."""
    if birth_date.month == 2 and birth_date.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return birth_date.replace(year=year)


def nth_birthday_after(issued_on: date, birth_date: date, n: int = CARD_CERTIFICATE_YEARS) -> date:
    """The ``n``-th birthday strictly after ``issued_on``."""
    if birth_date > issued_on:
        raise ValueError("the birth date is after the issue date")
    if n < 1:
        raise ValueError("n must be at least 1")
    first = birthday_in(issued_on.year, birth_date)
    if first <= issued_on:
        first = birthday_in(issued_on.year + 1, birth_date)
    return birthday_in(first.year + n - 1, birth_date)


def validity_period(issued_on: date, birth_date: date) -> tuple[datetime, datetime]:
    """(not_before, not_after) in UTC: start of the issue day to end of the 5th birthday, JST."""
    last_day = nth_birthday_after(issued_on, birth_date)
    not_before = datetime.combine(issued_on, time(0, 0), tzinfo=JST).astimezone(UTC)
    not_after = datetime.combine(last_day, time(23, 59, 59), tzinfo=JST).astimezone(UTC)
    return not_before, not_after


def add_months(day: date, months: int) -> date:
    """Calendar month arithmetic, clamped to the end of a shorter month."""
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last))


def shift_jst_months(instant: datetime, months: int) -> datetime:
    """Move an aware instant by whole calendar months on the JST calendar (UTC result)."""
    local = instant.astimezone(JST)
    moved = add_months(local.date(), months)
    return datetime.combine(moved, local.timetz()).astimezone(UTC)


def subject_for_serial(serial: int) -> x509.Name:
    """Subject of a user-authentication certificate: no personal data, like real JPKI.

    The CN is the serial number in upper-case hexadecimal (padded to 40 digits), so it is
    random-looking, unique per certificate, and says nothing about the holder.
    """
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{serial:040X}"),
        ]
    )
