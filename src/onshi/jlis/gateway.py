"""What the portal asks J-LIS, as an interface the real J-LIS gateway could implement.

J-LIS issues the 利用者証明用電子証明書 and keeps the resident registry's 5 items (漢字氏名,
カナ氏名, 生年月日, 性別, 住所). The portal never handles a plain 個人番号 here: residents are named
by the HMAC of their number under the settings' My Number key (``my_number_hash``).

Three questions:

* :meth:`JlisGateway.holder_of_certificate`: who holds this certificate (by issuer + serial and
  its SHA-256 fingerprint), if J-LIS issued it and has not revoked it;
* :meth:`JlisGateway.candidates_by_birth_date_and_sex`: every resident born that day with that
  sex (the caller compares the names and address with its own 5-item rules);
* :meth:`JlisGateway.resident_for_my_number_hash`: the resident holding that 個人番号 (the caller
  compares the 5 items it was given with this record).

The SIMULATED implementation is :class:`onshi.jlis.simulated.SimulatedJlis`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from onshi.identity.models import Sex

NAME_SEPARATOR = "\u3000"


@dataclass(frozen=True, slots=True)
class Resident:
    """The registry's record of one resident: the 5 items and the keyed hash of the number."""

    my_number_hash: str
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: date
    sex: Sex
    address: str
    postal_code: str | None = None
    prefecture_code: str | None = None

    @property
    def kanji_name(self) -> str:
        """漢字氏名: family and given name joined by a full-width space (family alone when the
        given name is empty)."""
        return _joined(self.family_name, self.given_name)

    @property
    def kana_name(self) -> str:
        """カナ氏名, joined like :attr:`kanji_name`."""
        return _joined(self.family_name_kana, self.given_name_kana)

    def __repr__(self) -> str:  # never print a person's data in logs or tracebacks
        return "Resident(…)"


@dataclass(frozen=True, slots=True)
class CertificateHolder:
    """J-LIS's answer for a certificate it issued and has not revoked."""

    resident: Resident
    certificate_serial: str
    not_before: datetime
    not_after: datetime

    @property
    def my_number_hash(self) -> str:
        return self.resident.my_number_hash


class JlisGateway(Protocol):
    def holder_of_certificate(
        self, *, issuer: str, serial: str, fingerprint: str, at: datetime
    ) -> CertificateHolder | None:
        """The holder of the certificate ``issuer`` + ``serial`` (RFC 4514 issuer, upper-case
        hex serial) whose SHA-256 fingerprint is ``fingerprint``; ``None`` when J-LIS did not
        issue it, the fingerprint differs, it is revoked, or ``at`` is before its validity."""
        ...

    def candidates_by_birth_date_and_sex(self, birth_date: date, sex: Sex) -> list[Resident]:
        """Every resident with this 生年月日 and 性別, in a stable order."""
        ...

    def resident_for_my_number_hash(self, my_number_hash: str) -> Resident | None:
        """The resident whose 個人番号 hashes to ``my_number_hash``, if any."""
        ...


def _joined(family: str, given: str) -> str:
    return f"{family}{NAME_SEPARATOR}{given}" if given else family
