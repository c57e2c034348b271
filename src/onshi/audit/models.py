"""The audit trail, the data-access log the patient sees, and the transparency log over both.

``audit_events`` and ``data_access_log`` rows are the log's entries: each is written once, in the
request's transaction, and never changed again. The integrator (``onshi.audit.integrator``) later
gives it its position in the Merkle tree as a ``tlog_leaves`` row (primary key = the position,
unique entry, so no position is given twice and no entry gets two); the entry row itself is not
rewritten. Which entries still wait is found through the integration horizon kept in
``tlog_state`` and the entries' ``tx_id`` (PostgreSQL) or ``id`` (SQLite). ``audit_events``
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
    FetchedValue,
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


TILE_LEVELS = 8
"""``tlog_nodes`` keeps the subtrees of levels 8, 16, 24 … only (tiles of 256 hashes, as in C2SP
tlog-tiles); a proof computes the levels in between from the level below it."""


def _transaction_index(name: str) -> Index:
    """PostgreSQL: the entries by the transaction that wrote them, what the integrator scans
    from its horizon. ``tx_id`` is filled by the database (``pg_current_xact_id()``, set by
    migration 0015) and stays NULL on SQLite, where the integrator scans by id instead."""
    written = text("tx_id IS NOT NULL")
    return Index(name, "tx_id", sqlite_where=written, postgresql_where=written)


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
    tx_id: Mapped[int | None] = mapped_column(BigInteger, server_default=FetchedValue())

    __table_args__ = (
        *enum_checks(actor_kind=ActorKind),
        _transaction_index("ix_audit_events_tx_id"),
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
    tx_id: Mapped[int | None] = mapped_column(BigInteger, server_default=FetchedValue())
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
        _transaction_index("ix_data_access_log_tx_id"),
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
    for the levels that are multiples of :data:`TILE_LEVELS` (level 0 is ``tlog_leaves``; rows of
    other levels written before migration 0015 were removed). Proofs for any tree size are
    built from these and the leaves."""

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
    # The integration horizon of each entry table: every entry whose key is below it is in the
    # tree. The key is ``tx_id`` on PostgreSQL (the same xid horizon for both tables) and ``id``
    # on SQLite (one writer at a time, so ids commit in order). See onshi.audit.integrator.
    audit_horizon: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    access_horizon: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))

    __table_args__ = (CheckConstraint(f"id = {TREE_STATE_ID}", name="single_row"),)


class TlogCheckpoint(IdMixin, Base):
    """A signed checkpoint (C2SP tlog-checkpoint body in a signed note), one per integration."""

    __tablename__ = "tlog_checkpoints"

    tree_size: Mapped[int] = mapped_column(BigInteger, unique=True)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
