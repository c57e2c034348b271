"""Insurers, the member records they register, and the links that tie a member record to a
person (docs/identity-chain.md).

A :class:`Qualification` row is a member record: one 個人単位被保険者番号 (保険者番号 + 記号 + 番号
+ 枝番) with the 5 items (氏名, カナ氏名, 生年月日, 性別, 住所) as the insurer registered them.
It names no person: a :class:`MemberLink` made through the 5-item check ties it to one, and only
a current, shown link lets anything of the member reach that person
(:mod:`onshi.qualification.visibility`).

Lookups by 保険者番号 + 記号 + 番号 (+ 枝番) go through ``symbol_key`` / ``number_key``
(:func:`onshi.identifiers.symbol_key` / :func:`onshi.identifiers.number_key`: NFKC, no spaces,
no hyphens), so "１２３-４" and "1234" find the same row. ``symbol_key`` is '' when the card has
no 記号 (後期高齢者), so the composite index works with plain equality.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from onshi.db.base import Base, IdMixin
from onshi.db.enums import StrEnumType, digits_check, enum_checks
from onshi.identity.models import Sex, prefecture_check


class InsurerKind(StrEnum):
    KYOKAI_KENPO = "kyokai_kenpo"  # 協会けんぽ
    KENPO_KUMIAI = "kenpo_kumiai"  # 健康保険組合
    KYOSAI = "kyosai"  # 共済組合
    SHICHOSON_KOKUHO = "shichoson_kokuho"  # 市町村国保
    KOKUHO_KUMIAI = "kokuho_kumiai"  # 国保組合
    KOKI_KOREISHA = "koki_koreisha"  # 後期高齢者医療広域連合


class Relationship(StrEnum):
    """本人家族区分."""

    INSURED = "1"  # 本人
    DEPENDANT = "2"  # 家族


class LossReason(StrEnum):
    """喪失事由."""

    DEATH = "01"  # 死亡
    WELFARE = "02"  # 生活保護受給開始
    OTHER_INSURANCE = "03"  # 他の医療保険の資格取得
    OTHER = "99"  # その他


class CopaymentRatio(StrEnum):
    """一部負担金割合."""

    TEN = "010"
    TWENTY = "020"
    THIRTY = "030"


class LinkStatus(StrEnum):
    """State of a member record's link to a person. Only ``linked`` and ``linked_confirm`` are
    shown (:data:`onshi.qualification.visibility.SHOWN_STATUSES`)."""

    LINKED = "linked"  # the 5 items matched
    LINKED_CONFIRM = "linked_confirm"  # matched through tolerated variations: confirm with member
    HELD = "held"  # the check did not pass (or is not finished): shown nowhere
    DISPUTED = "disputed"  # reported wrong, under review: shown nowhere
    UNDONE = "undone"  # found wrong and detached: shown nowhere, kept for the incident review


class LinkActor(StrEnum):
    """Who made a link row: an operator (staff account), an insurer's system (its API key) or
    Onshi itself (imports, migrations, the seed)."""

    STAFF = "staff"
    INSURER_SYSTEM = "insurer_system"
    SYSTEM = "system"


class LinkMethod(StrEnum):
    """How a link was made."""

    MY_NUMBER = "my_number"  # 個人番号 given by the member, 5 items confirmed with J-LIS
    FIVE_ITEM_SEARCH = "five_item_search"  # J-LIS searched by the 5 items
    OPERATOR = "operator"  # an operator's correction or confirmation (with a reason)
    MIGRATED = "migrated"  # carried over from the former person-keyed schema


class LimitCategory(StrEnum):
    """限度額適用認定 区分 (01–03)."""

    C01 = "01"
    C02 = "02"
    C03 = "03"


class LimitClass(StrEnum):
    """適用区分: A01–A06 (ア イ ウ エ オ オ（境）), B01–B10 (現役並みⅢⅡⅠ, 一般, 低所得Ⅱ/Ⅰ …)."""

    A01 = "A01"
    A02 = "A02"
    A03 = "A03"
    A04 = "A04"
    A05 = "A05"
    A06 = "A06"
    B01 = "B01"
    B02 = "B02"
    B03 = "B03"
    B04 = "B04"
    B05 = "B05"
    B06 = "B06"
    B07 = "B07"
    B08 = "B08"
    B09 = "B09"
    B10 = "B10"


class SpecificDisease(StrEnum):
    """特定疾病療養受療証."""

    DIALYSIS = "1"  # 人工透析を要する慢性腎不全
    HAEMOPHILIA = "2"  # 血友病
    HIV_FROM_BLOOD_PRODUCTS = "3"  # 血液凝固因子製剤起因HIV


class Insurer(IdMixin, Base):
    __tablename__ = "insurers"

    number: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[InsurerKind] = mapped_column(StrEnumType(InsurerKind))
    prefecture_code: Mapped[str] = mapped_column(String(2))
    houbetsu: Mapped[str | None] = mapped_column(String(2))  # 法別番号; None for 市町村国保
    created_at: Mapped[datetime]

    __table_args__ = (
        *enum_checks(kind=InsurerKind),
        digits_check("number", 6, 8),
        digits_check("houbetsu", 2),
        prefecture_check(),
    )


class Qualification(IdMixin, Base):
    """One 資格 (a period of membership of one insurer) of one person."""

    __tablename__ = "qualifications"

    insurer_id: Mapped[int] = mapped_column(ForeignKey("insurers.id", ondelete="RESTRICT"))
    card_class: Mapped[str] = mapped_column(String(2))  # 被保険者証区分
    symbol: Mapped[str | None] = mapped_column(String(38))  # 記号 as printed
    number: Mapped[str] = mapped_column(String(38))  # 番号 as printed
    branch: Mapped[str | None] = mapped_column(String(2))  # 枝番
    symbol_key: Mapped[str] = mapped_column(String(38), default="")
    number_key: Mapped[str] = mapped_column(String(38))
    relationship: Mapped[Relationship] = mapped_column(StrEnumType(Relationship))
    # The 5 items as the insurer registered them (a '●' stands for a character its system
    # cannot store); the answer of a check shows these, not the person's.
    name: Mapped[str] = mapped_column(String(128))  # 氏名: family name, U+3000, given name
    name_kana: Mapped[str] = mapped_column(String(256))  # カナ氏名 (full-width katakana)
    birth_date: Mapped[date]
    sex: Mapped[Sex] = mapped_column(StrEnumType(Sex))
    address: Mapped[str | None] = mapped_column(String(256))
    postal_code: Mapped[str | None] = mapped_column(String(7))
    acquired_on: Mapped[date]  # 資格取得日
    lost_on: Mapped[date | None]  # 資格喪失日
    loss_reason: Mapped[LossReason | None] = mapped_column(StrEnumType(LossReason))
    issued_on: Mapped[date]  # 交付日
    valid_from: Mapped[date]
    valid_to: Mapped[date | None]
    copayment_ratio: Mapped[CopaymentRatio] = mapped_column(StrEnumType(CopaymentRatio))
    preschool: Mapped[bool] = mapped_column(default=False)  # 未就学区分
    # 高齢受給者証 (70–74)
    elderly_certificate_ratio: Mapped[CopaymentRatio | None] = mapped_column(
        StrEnumType(CopaymentRatio)
    )
    elderly_certificate_valid_from: Mapped[date | None]
    elderly_certificate_valid_to: Mapped[date | None]
    notified_on: Mapped[date | None]  # 届出受理日 (the 5-day registration deadline runs from it)
    registered_at: Mapped[datetime]  # when the insurer registered it in the system
    created_at: Mapped[datetime]

    __table_args__ = (
        *enum_checks(
            relationship=Relationship,
            loss_reason=LossReason,
            copayment_ratio=CopaymentRatio,
            elderly_certificate_ratio=CopaymentRatio,
            sex=Sex,
        ),
        digits_check("card_class", 2),
        digits_check("postal_code", 7),
        digits_check("branch", 2),
        CheckConstraint("lost_on IS NULL OR lost_on >= acquired_on", name="loss_after_acquisition"),
        CheckConstraint(
            "(lost_on IS NULL AND loss_reason IS NULL) OR lost_on IS NOT NULL",
            name="loss_reason_needs_loss",
        ),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="validity_order"),
        CheckConstraint(
            "(elderly_certificate_ratio IS NULL) = (elderly_certificate_valid_from IS NULL)",
            name="elderly_certificate_complete",
        ),
        Index("ix_qualifications_lookup", "insurer_id", "symbol_key", "number_key", "branch"),
    )


class MemberLink(IdMixin, Base):
    """One link of a member record to a person, as made (or changed) at one moment.

    A change never edits a link: it ends the current row (``ended_at``) and adds the next, so
    the history of every member record stays complete (never deleted). At most one row per
    member is current (``ended_at IS NULL``; a partial unique index enforces it). ``variations``
    lists the tolerated differences a ``linked_confirm`` was made through, ``differences`` the
    items that did not match (``held``); both are JSON lists of objects with at least ``item``.
    """

    __tablename__ = "member_links"

    qualification_id: Mapped[int] = mapped_column(
        ForeignKey("qualifications.id", ondelete="RESTRICT")
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="RESTRICT"))
    status: Mapped[LinkStatus] = mapped_column(StrEnumType(LinkStatus))
    method: Mapped[LinkMethod] = mapped_column(StrEnumType(LinkMethod))
    variations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    differences: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    reason_code: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(512))
    actor_kind: Mapped[LinkActor] = mapped_column(StrEnumType(LinkActor))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]

    __table_args__ = (
        *enum_checks(status=LinkStatus, method=LinkMethod, actor_kind=LinkActor),
        CheckConstraint("ended_at IS NULL OR ended_at >= created_at", name="ended_after_created"),
        Index(
            "uq_member_links_current",
            "qualification_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
        Index("ix_member_links_qualification_created", "qualification_id", "created_at"),
        Index("ix_member_links_person_current", "person_id", "ended_at"),
    )


class LimitCertification(IdMixin, Base):
    """限度額適用認定."""

    __tablename__ = "limit_certifications"

    qualification_id: Mapped[int] = mapped_column(
        ForeignKey("qualifications.id", ondelete="CASCADE"), index=True
    )
    category: Mapped[LimitCategory] = mapped_column(StrEnumType(LimitCategory))
    class_code: Mapped[LimitClass] = mapped_column(StrEnumType(LimitClass))
    valid_from: Mapped[date]
    valid_to: Mapped[date | None]

    __table_args__ = (
        *enum_checks(category=LimitCategory, class_code=LimitClass),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="validity_order"),
    )


class SpecificDiseaseCertificate(IdMixin, Base):
    """特定疾病療養受療証 with its monthly 自己負担限度額."""

    __tablename__ = "specific_disease_certificates"

    qualification_id: Mapped[int] = mapped_column(
        ForeignKey("qualifications.id", ondelete="CASCADE"), index=True
    )
    disease: Mapped[SpecificDisease] = mapped_column(StrEnumType(SpecificDisease))
    monthly_limit_yen: Mapped[int]
    valid_from: Mapped[date]
    valid_to: Mapped[date | None]

    __table_args__ = (
        *enum_checks(disease=SpecificDisease),
        CheckConstraint("monthly_limit_yen >= 0", name="monthly_limit_yen_non_negative"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="validity_order"),
    )
