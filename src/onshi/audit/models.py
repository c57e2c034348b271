"""The audit trail (hash chain) and the data-access log the patient sees.

``audit_events`` deliberately has no foreign keys: an audit row must never change after it is
written (an ON DELETE SET NULL would break its hash), and it must outlive what it describes.
``audit_chain_head`` holds the newest seq/hash in one row; appenders lock it (see
``onshi.audit.services``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Connection,
    ForeignKey,
    Index,
    String,
    Table,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from onshi.accounts import models as _accounts  # noqa: F401  (foreign-key targets)
from onshi.db.base import Base, IdMixin
from onshi.db.enums import StrEnumType, enum_checks
from onshi.identity import models as _identity  # noqa: F401  (foreign-key targets)
from onshi.institutions import models as _institutions  # noqa: F401  (foreign-key targets)
from onshi.verification import models as _verification  # noqa: F401  (foreign-key targets)

GENESIS_HASH = "0" * 64
CHAIN_HEAD_ID = 1


class ActorKind(StrEnum):
    STAFF = "staff"
    PATIENT = "patient"
    DEVICE = "device"
    SYSTEM = "system"  # commands, scheduled jobs, imports


class DataKind(StrEnum):
    DRUG = "drug"
    HEALTH_CHECK = "health_check"
    CLINICAL = "clinical"
    EXPENSE = "expense"
    QUALIFICATION = "qualification"


class AccessPurpose(StrEnum):
    NORMAL = "normal"  # with the patient's consent
    EMERGENCY = "emergency"  # 救急時
    DISASTER = "disaster"  # 災害時
    SELF = "self"  # the patient on the portal


class AuditEvent(IdMixin, Base):
    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    occurred_at: Mapped[datetime]
    actor_kind: Mapped[ActorKind] = mapped_column(StrEnumType(ActorKind))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int | None] = mapped_column(BigInteger)
    institution_id: Mapped[int | None] = mapped_column(BigInteger)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (
        *enum_checks(actor_kind=ActorKind),
        CheckConstraint("seq >= 1", name="seq_positive"),
        Index("ix_audit_events_person_occurred", "person_id", "occurred_at"),
        Index("ix_audit_events_institution_occurred", "institution_id", "occurred_at"),
        Index("ix_audit_events_object", "object_type", "object_id"),
        Index("ix_audit_events_occurred_at", "occurred_at"),
    )


class AuditChainHead(Base):
    """The newest link of the chain: one row (id = 1), locked by every appender."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)

    __table_args__ = (CheckConstraint(f"id = {CHAIN_HEAD_ID}", name="single_row"),)


@event.listens_for(AuditChainHead.__table__, "after_create")
def _insert_chain_head(target: Table, connection: Connection, **_kw: Any) -> None:
    """``metadata.create_all`` (tests, scratch databases) gets the head row the migration
    inserts."""
    connection.execute(target.insert().values(id=CHAIN_HEAD_ID, last_seq=0, last_hash=GENESIS_HASH))


class DataAccess(IdMixin, Base):
    """One view of a person's data, shown to that person (「誰に自分が見せたのか」)."""

    __tablename__ = "data_access_log"

    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institutions.id", ondelete="SET NULL")
    )
    staff_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="SET NULL")
    )
    data_kind: Mapped[DataKind] = mapped_column(StrEnumType(DataKind))
    purpose: Mapped[AccessPurpose] = mapped_column(StrEnumType(AccessPurpose))
    occurred_at: Mapped[datetime]
    verification_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("verification_events.id", ondelete="SET NULL")
    )

    __table_args__ = (
        *enum_checks(data_kind=DataKind, purpose=AccessPurpose),
        Index("ix_data_access_log_person_occurred", "person_id", "occurred_at"),
        Index("ix_data_access_log_institution_occurred", "institution_id", "occurred_at"),
    )
