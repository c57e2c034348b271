"""SIMULATED J-LIS tables: residents (住民基本台帳's 5 items, keyed by the 個人番号's HMAC) and
the issuance records of 利用者証明用電子証明書 (which certificate went to which resident).

A stand-in for the real J-LIS, used in demos, tests and acceptance runs; the portal reads it only
through :class:`onshi.jlis.gateway.JlisGateway`. The 個人番号 itself is never stored.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from onshi.db.base import Base, IdMixin
from onshi.db.enums import StrEnumType, digits_check, enum_checks
from onshi.identity.models import Sex


class SimulatedJlisResident(IdMixin, Base):
    """One resident as the SIMULATED registry knows them. Names are kept as family + given
    (``given_name`` is empty when a name was loaded without a space); ``prefecture_code`` is
    derived from the address when it begins with a 都道府県 name."""

    __tablename__ = "sim_jlis_residents"

    my_number_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family_name: Mapped[str] = mapped_column(String(64))
    given_name: Mapped[str] = mapped_column(String(64))
    family_name_kana: Mapped[str] = mapped_column(String(128))
    given_name_kana: Mapped[str] = mapped_column(String(128))
    birth_date: Mapped[date]
    sex: Mapped[Sex] = mapped_column(StrEnumType(Sex))
    postal_code: Mapped[str | None] = mapped_column(String(7))
    address: Mapped[str] = mapped_column(String(256))
    prefecture_code: Mapped[str | None] = mapped_column(String(2))

    __table_args__ = (
        *enum_checks(sex=Sex),
        CheckConstraint(
            "prefecture_code IS NULL OR "
            "(length(prefecture_code) = 2 AND prefecture_code BETWEEN '01' AND '47')",
            name="prefecture_code",
        ),
        digits_check("postal_code", 7),
        Index("ix_sim_jlis_residents_birth_date_sex", "birth_date", "sex"),
    )


class SimulatedJlisCertificate(IdMixin, Base):
    """An issued 利用者証明用電子証明書: to whom, its issuer and serial, its SHA-256 fingerprint,
    validity and (when revoked) the revocation."""

    __tablename__ = "sim_jlis_certificates"

    resident_id: Mapped[int] = mapped_column(
        ForeignKey("sim_jlis_residents.id", ondelete="CASCADE"), index=True
    )
    certificate_issuer: Mapped[str] = mapped_column(String(512))
    certificate_serial: Mapped[str] = mapped_column(String(64))
    fingerprint_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    not_before: Mapped[datetime]
    not_after: Mapped[datetime]
    issued_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revocation_reason: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        CheckConstraint("not_before < not_after", name="validity_order"),
        UniqueConstraint(
            "certificate_issuer",
            "certificate_serial",
            name="uq_sim_jlis_certificates_issuer_serial",
        ),
    )
