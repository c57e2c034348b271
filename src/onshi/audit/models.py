"""The audit trail, the data-access log the patient sees, and the transparency log over both.

``audit_events`` and ``data_access_log`` rows are the log's entries: each is written once, in the
request's transaction, with ``leaf_index`` NULL; the integrator (``onshi.audit.integrator``)
later gives it its position in the Merkle tree (``leaf_index``, mirrored by a ``tlog_leaves`` row
whose primary key is that position, so no position is ever given twice). ``audit_events``
deliberately has no foreign keys: an entry must never change after it is written, and it must
outlive what it describes. See docs/transparency-log.md.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from onshi.db.base import Base, IdMixin
from onshi.db.enums import StrEnumType, enum_checks

TREE_STATE_ID = 1


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
    # A 記号番号 (insurer number, symbol and number) lookup by the institution: allowed by the
    # lookup itself at the institution, not by a consent given at a reader.
    SYMBOL_NUMBER = "symbol_number"
    # The results of a 一括照会 (batch inquiry: names, 負担割合 …) served to the institution
    # that sent it: allowed by the inquiry, not by a consent.
    BATCH = "batch"


class EntryKind(StrEnum):
    """Which table a transparency-log entry lives in."""

    AUDIT = "audit"  # audit_events
    ACCESS = "access"  # data_access_log


def _pending_index(name: str) -> Index:
    """The entries not yet integrated, in id order: what the integrator reads."""
    pending = text("leaf_index IS NULL")
    return Index(name, "id", sqlite_where=pending, postgresql_where=pending)


class AuditEvent(IdMixin, Base):
    __tablename__ = "audit_events"

    occurred_at: Mapped[datetime]
    actor_kind: Mapped[ActorKind] = mapped_column(StrEnumType(ActorKind))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int | None] = mapped_column(BigInteger)
    institution_id: Mapped[int | None] = mapped_column(BigInteger)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    leaf_index: Mapped[int | None] = mapped_column(BigInteger, unique=True, default=None)

    __table_args__ = (
        *enum_checks(actor_kind=ActorKind),
        _pending_index("ix_audit_events_pending"),
        Index("ix_audit_events_person_occurred", "person_id", "occurred_at"),
        Index("ix_audit_events_institution_occurred", "institution_id", "occurred_at"),
        Index("ix_audit_events_object", "object_type", "object_id"),
        Index("ix_audit_events_occurred_at", "occurred_at"),
    )


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
    leaf_index: Mapped[int | None] = mapped_column(BigInteger, unique=True, default=None)
    # What allowed a staff view (the viewer, 0013): the viewer's role, the member record whose
    # data was read, and the basis: the consent (and its expiry at the time) or the disaster
    # declaration (an emergency view's reason is in ``emergency_views``). Plain ids, no foreign
    # keys: the row is a log entry and must never change. NULL on older rows and on the
    # patient's own views; the entry's bytes name each only when set (onshi.audit.entries).
    staff_role: Mapped[str | None] = mapped_column(String(32), default=None)
    qualification_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    consent_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    consent_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    disaster_declaration_id: Mapped[int | None] = mapped_column(BigInteger, default=None)

    __table_args__ = (
        *enum_checks(data_kind=DataKind, purpose=AccessPurpose),
        _pending_index("ix_data_access_log_pending"),
        Index("ix_data_access_log_person_occurred", "person_id", "occurred_at"),
        Index("ix_data_access_log_institution_occurred", "institution_id", "occurred_at"),
    )


class TlogLeaf(Base):
    """One position of the Merkle tree: which entry it holds and its leaf hash
    (SHA-256(0x00 || entry bytes)). Written only by the integrator."""

    __tablename__ = "tlog_leaves"

    leaf_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entry_kind: Mapped[EntryKind] = mapped_column(StrEnumType(EntryKind))
    entry_id: Mapped[int] = mapped_column(BigInteger)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))

    __table_args__ = (
        *enum_checks(entry_kind=EntryKind),
        CheckConstraint("leaf_index >= 0", name="leaf_index_non_negative"),
        UniqueConstraint("entry_kind", "entry_id"),
    )


class TlogNode(Base):
    """The hash of one complete subtree, leaves [node_index << level, (node_index + 1) << level),
    for level >= 1 (level 0 is ``tlog_leaves``). Proofs for any tree size are built from these."""

    __tablename__ = "tlog_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    node_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))

    __table_args__ = (CheckConstraint("level >= 1", name="level_positive"),)


class TlogState(Base):
    """The integrated tree: its size and its right edge (the compact range [0, size): the
    hashes of the complete subtrees the size splits into, largest first), so the next entry is
    added in O(log n). One row (id = 1), written only by the integrator."""

    __tablename__ = "tlog_state"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    tree_size: Mapped[int] = mapped_column(BigInteger)
    right_edge: Mapped[bytes] = mapped_column(LargeBinary)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    updated_at: Mapped[datetime]

    __table_args__ = (CheckConstraint(f"id = {TREE_STATE_ID}", name="single_row"),)


class TlogCheckpoint(IdMixin, Base):
    """A signed checkpoint (C2SP tlog-checkpoint body in a signed note), one per integration."""

    __tablename__ = "tlog_checkpoints"

    tree_size: Mapped[int] = mapped_column(BigInteger, unique=True)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
