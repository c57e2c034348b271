"""Persons (the insurer-side identity of a member) and 健康保険証利用登録 (links between a card's
user-authentication certificate and a person). The SIMULATED resident registry (J-LIS) lives in
``onshi.jlis``.

The My Number itself is never stored: only its keyed HMAC (hex), see the identity services.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from onshi.db.base import Base, IdMixin
from onshi.db.enums import StrEnumType, digits_check, enum_checks


class Sex(StrEnum):
    """性別 as coded in the qualification result: 1 男, 2 女, 3 未設定."""

    MALE = "1"
    FEMALE = "2"
    UNSET = "3"


def prefecture_check(column: str = "prefecture_code") -> CheckConstraint:
    """都道府県コード: two digits, 01 北海道 … 47 沖縄県."""
    return CheckConstraint(f"length({column}) = 2 AND {column} BETWEEN '01' AND '47'", name=column)


class Person(IdMixin, Base):
    """A member as the insurers know them (names as registered, kana in full-width katakana)."""

    __tablename__ = "persons"

    family_name: Mapped[str] = mapped_column(String(64))
    given_name: Mapped[str] = mapped_column(String(64))
    family_name_kana: Mapped[str] = mapped_column(String(128))
    given_name_kana: Mapped[str] = mapped_column(String(128))
    birth_date: Mapped[date]
    sex: Mapped[Sex] = mapped_column(StrEnumType(Sex))
    postal_code: Mapped[str | None] = mapped_column(String(7))
    address: Mapped[str] = mapped_column(String(256))
    prefecture_code: Mapped[str] = mapped_column(String(2))
    my_number_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]

    __table_args__ = (
        *enum_checks(sex=Sex),
        prefecture_check(),
        digits_check("postal_code", 7),
        Index("ix_persons_birth_date_kana", "birth_date", "family_name_kana", "given_name_kana"),
    )

    @property
    def full_name(self) -> str:
        return f"{self.family_name}\u3000{self.given_name}"

    @property
    def full_name_kana(self) -> str:
        return f"{self.family_name_kana}\u3000{self.given_name_kana}"


class CardCertificateLink(IdMixin, Base):
    """健康保険証利用登録: a card's 利用者証明用電子証明書 linked to a person. A renewed certificate
    is a new link; an unlinked one keeps its row (``unlinked_at``) for the history."""

    __tablename__ = "card_certificate_links"

    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    certificate_issuer: Mapped[str] = mapped_column(String(512))
    certificate_serial: Mapped[str] = mapped_column(String(64))
    fingerprint_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    not_before: Mapped[datetime]
    not_after: Mapped[datetime]
    linked_at: Mapped[datetime]
    unlinked_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("not_before < not_after", name="validity_order"),
        Index(
            "ix_card_certificate_links_issuer_serial", "certificate_issuer", "certificate_serial"
        ),
    )
