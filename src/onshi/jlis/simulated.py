"""The SIMULATED J-LIS: :class:`JlisGateway` over the ``sim_jlis_*`` tables, and the writes a
municipality counter would make there (a resident's record, a certificate issued or revoked).

Writes flush and never commit (the caller owns the transaction)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from cryptography import x509
from sqlalchemy import select
from sqlalchemy.orm import Session

from onshi.identity.models import Sex
from onshi.jlis.gateway import CertificateHolder, Resident
from onshi.jlis.models import SimulatedJlisCertificate, SimulatedJlisResident
from onshi.pki.trust import certificate_fingerprint


class SimulatedJlis:
    """SIMULATED J-LIS answering from the database session ``db``."""

    def __init__(self, db: Session) -> None:
        self.db = db

    # -- JlisGateway ------------------------------------------------------------------------
    def holder_of_certificate(
        self, *, issuer: str, serial: str, fingerprint: str, at: datetime
    ) -> CertificateHolder | None:
        row = self.db.execute(
            select(SimulatedJlisCertificate, SimulatedJlisResident)
            .join(
                SimulatedJlisResident,
                SimulatedJlisResident.id == SimulatedJlisCertificate.resident_id,
            )
            .where(
                SimulatedJlisCertificate.certificate_issuer == issuer,
                SimulatedJlisCertificate.certificate_serial == serial.upper(),
            )
        ).first()
        if row is None:
            return None
        issued, resident = row
        if (
            issued.fingerprint_sha256 != fingerprint.lower()
            or issued.revoked_at is not None
            or at < issued.not_before
        ):
            return None
        return CertificateHolder(
            resident=resident_of(resident),
            certificate_serial=issued.certificate_serial,
            not_before=issued.not_before,
            not_after=issued.not_after,
        )

    def candidates_by_birth_date_and_sex(self, birth_date: date, sex: Sex) -> list[Resident]:
        rows = self.db.scalars(
            select(SimulatedJlisResident)
            .where(SimulatedJlisResident.birth_date == birth_date, SimulatedJlisResident.sex == sex)
            .order_by(SimulatedJlisResident.id)
        )
        return [resident_of(row) for row in rows]

    def resident_for_my_number_hash(self, my_number_hash: str) -> Resident | None:
        row = self.resident_row(my_number_hash)
        return None if row is None else resident_of(row)

    # -- reads for the tools ----------------------------------------------------------------
    def resident_row(self, my_number_hash: str) -> SimulatedJlisResident | None:
        return self.db.scalar(
            select(SimulatedJlisResident).where(
                SimulatedJlisResident.my_number_hash == my_number_hash
            )
        )

    # -- writes (the municipality's side) ---------------------------------------------------
    def record_issuance(
        self, resident_id: int, issued: IssuedCertificate
    ) -> SimulatedJlisCertificate:
        """Record that ``issued`` went to the resident ``resident_id`` (idempotent for the same
        certificate; a certificate already issued to someone else is a ``ValueError``)."""
        existing = self.db.scalar(
            select(SimulatedJlisCertificate).where(
                SimulatedJlisCertificate.fingerprint_sha256 == issued.fingerprint.lower()
            )
        )
        if existing is not None:
            if existing.resident_id != resident_id:
                raise ValueError("this certificate is recorded as issued to another resident")
            return existing
        record = SimulatedJlisCertificate(
            resident_id=resident_id,
            certificate_issuer=issued.issuer[:512],
            certificate_serial=issued.serial.upper()[:64],
            fingerprint_sha256=issued.fingerprint.lower(),
            not_before=issued.not_before,
            not_after=issued.not_after,
            issued_at=issued.issued_at or issued.not_before,
            revoked_at=None,
            revocation_reason=None,
        )
        self.db.add(record)
        self.db.flush()
        return record

    def record_revocation(
        self, *, issuer: str, serial: str, at: datetime, reason: str
    ) -> SimulatedJlisCertificate | None:
        """Mark an issued certificate revoked (the earliest revocation is kept); ``None`` when
        J-LIS has no record of it."""
        record = self.db.scalar(
            select(SimulatedJlisCertificate).where(
                SimulatedJlisCertificate.certificate_issuer == issuer,
                SimulatedJlisCertificate.certificate_serial == serial.upper(),
            )
        )
        if record is not None and record.revoked_at is None:
            record.revoked_at = at
            record.revocation_reason = reason[:32]
            self.db.flush()
        return record


@dataclass(frozen=True, slots=True)
class IssuedCertificate:
    """What J-LIS records of an issued certificate. ``issuer`` is the RFC 4514 issuer name and
    ``serial`` the upper-case hex serial, as :func:`certificate_key` gives them."""

    issuer: str
    serial: str
    fingerprint: str
    not_before: datetime
    not_after: datetime
    issued_at: datetime | None

    @classmethod
    def of(cls, certificate: x509.Certificate, *, issued_at: datetime | None) -> IssuedCertificate:
        issuer, serial = certificate_key(certificate)
        return cls(
            issuer=issuer,
            serial=serial,
            fingerprint=certificate_fingerprint(certificate),
            not_before=certificate.not_valid_before_utc,
            not_after=certificate.not_valid_after_utc,
            issued_at=issued_at,
        )


def certificate_key(certificate: x509.Certificate) -> tuple[str, str]:
    """(issuer, serial) as J-LIS and the 利用登録 links record them."""
    return certificate.issuer.rfc4514_string()[:512], f"{certificate.serial_number:X}"[:64]


def resident_of(row: SimulatedJlisResident) -> Resident:
    return Resident(
        my_number_hash=row.my_number_hash,
        family_name=row.family_name,
        given_name=row.given_name,
        family_name_kana=row.family_name_kana,
        given_name_kana=row.given_name_kana,
        birth_date=row.birth_date,
        sex=row.sex,
        address=row.address,
        postal_code=row.postal_code,
        prefecture_code=row.prefecture_code,
    )
