"""transparency log: audit events and access-log rows become Merkle-tree entries

The hash chain goes (``audit_events.seq / prev_hash / hash`` and ``audit_chain_head``); every
``audit_events`` and ``data_access_log`` row gets ``leaf_index`` (NULL until the integrator gives
it a position), and the tree lives in ``tlog_leaves``, ``tlog_nodes``, ``tlog_state`` and
``tlog_checkpoints``. Existing rows are converted by leaving their ``leaf_index`` NULL: the
integrator takes them first (oldest first) and signs the first checkpoint over them. The access
log's purposes gain ``symbol_number`` (a 記号番号 lookup). Downgrade rebuilds the chain from
the events in id order.

Revision ID: 0009_transparency_log
Revises: 0006_member_records
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import onshi.db.types

revision: str = "0009_transparency_log"
down_revision: str | None = "0006_member_records"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PENDING = sa.text("leaf_index IS NULL")
_OLD_PURPOSES = "purpose IN ('normal', 'emergency', 'disaster', 'self')"
_NEW_PURPOSES = "purpose IN ('normal', 'emergency', 'disaster', 'self', 'symbol_number')"


def upgrade() -> None:
    op.create_table(
        "tlog_leaves",
        sa.Column("leaf_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("entry_kind", sa.String(length=6), nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.CheckConstraint(
            "entry_kind IN ('audit', 'access')", name=op.f("ck_tlog_leaves_entry_kind")
        ),
        sa.CheckConstraint("leaf_index >= 0", name=op.f("ck_tlog_leaves_leaf_index_non_negative")),
        sa.PrimaryKeyConstraint("leaf_index", name=op.f("pk_tlog_leaves")),
        sa.UniqueConstraint(
            "entry_kind", "entry_id", name=op.f("uq_tlog_leaves_entry_kind_entry_id")
        ),
    )
    op.create_table(
        "tlog_nodes",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("node_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.CheckConstraint("level >= 1", name=op.f("ck_tlog_nodes_level_positive")),
        sa.PrimaryKeyConstraint("level", "node_index", name=op.f("pk_tlog_nodes")),
    )
    op.create_table(
        "tlog_state",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("right_edge", sa.LargeBinary(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("updated_at", onshi.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_tlog_state_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tlog_state")),
    )
    op.create_table(
        "tlog_checkpoints",
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", onshi.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tlog_checkpoints")),
        sa.UniqueConstraint("tree_size", name=op.f("uq_tlog_checkpoints_tree_size")),
    )
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_constraint(op.f("uq_audit_events_hash"), type_="unique")
        batch.drop_constraint(op.f("uq_audit_events_seq"), type_="unique")
        batch.drop_constraint(op.f("ck_audit_events_seq_positive"), type_="check")
        batch.drop_column("seq")
        batch.drop_column("prev_hash")
        batch.drop_column("hash")
        batch.add_column(sa.Column("leaf_index", sa.BigInteger(), nullable=True))
        batch.create_unique_constraint(op.f("uq_audit_events_leaf_index"), ["leaf_index"])
    op.create_index(
        "ix_audit_events_pending",
        "audit_events",
        ["id"],
        unique=False,
        sqlite_where=_PENDING,
        postgresql_where=_PENDING,
    )
    with op.batch_alter_table("data_access_log") as batch:
        batch.drop_constraint(op.f("ck_data_access_log_purpose"), type_="check")
        batch.alter_column("purpose", existing_type=sa.String(length=9), type_=sa.String(length=13))
        batch.create_check_constraint("purpose", _NEW_PURPOSES)
        batch.add_column(sa.Column("leaf_index", sa.BigInteger(), nullable=True))
        batch.create_unique_constraint(op.f("uq_data_access_log_leaf_index"), ["leaf_index"])
    op.create_index(
        "ix_data_access_log_pending",
        "data_access_log",
        ["id"],
        unique=False,
        sqlite_where=_PENDING,
        postgresql_where=_PENDING,
    )
    op.drop_table("audit_chain_head")


def downgrade() -> None:
    op.drop_index("ix_data_access_log_pending", table_name="data_access_log")
    op.execute("DELETE FROM data_access_log WHERE purpose = 'symbol_number'")
    with op.batch_alter_table("data_access_log") as batch:
        batch.drop_constraint(op.f("uq_data_access_log_leaf_index"), type_="unique")
        batch.drop_column("leaf_index")
        batch.drop_constraint(op.f("ck_data_access_log_purpose"), type_="check")
        batch.alter_column("purpose", existing_type=sa.String(length=13), type_=sa.String(length=9))
        batch.create_check_constraint("purpose", _OLD_PURPOSES)
    op.drop_index("ix_audit_events_pending", table_name="audit_events")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_constraint(op.f("uq_audit_events_leaf_index"), type_="unique")
        batch.drop_column("leaf_index")
        batch.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
    last_seq, last_hash = _rebuild_chain()
    with op.batch_alter_table("audit_events") as batch:
        batch.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
        batch.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        batch.create_check_constraint("seq_positive", "seq >= 1")
        batch.create_unique_constraint(op.f("uq_audit_events_hash"), ["hash"])
        batch.create_unique_constraint(op.f("uq_audit_events_seq"), ["seq"])
    head = op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_chain_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    op.bulk_insert(head, [{"id": 1, "last_seq": last_seq, "last_hash": last_hash}])
    op.drop_table("tlog_checkpoints")
    op.drop_table("tlog_state")
    op.drop_table("tlog_nodes")
    op.drop_table("tlog_leaves")


def _rebuild_chain() -> tuple[int, str]:
    """The previous revision's hash chain over the events, in id order."""
    events = sa.table(
        "audit_events",
        sa.column("id", sa.BigInteger()),
        sa.column("occurred_at", onshi.db.types.UTCDateTime()),
        sa.column("actor_kind", sa.String()),
        sa.column("actor_id", sa.String()),
        sa.column("action", sa.String()),
        sa.column("object_type", sa.String()),
        sa.column("object_id", sa.String()),
        sa.column("person_id", sa.BigInteger()),
        sa.column("institution_id", sa.BigInteger()),
        sa.column("details", sa.JSON()),
        sa.column("seq", sa.BigInteger()),
        sa.column("prev_hash", sa.String()),
        sa.column("hash", sa.String()),
    )
    connection = op.get_bind()
    seq, prev_hash = 0, "0" * 64
    for row in connection.execute(sa.select(events).order_by(events.c.id)).all():
        seq += 1
        moment: datetime = row.occurred_at
        payload = {
            "seq": seq,
            "occurred_at": moment.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor_kind": row.actor_kind,
            "actor_id": row.actor_id,
            "action": row.action,
            "object_type": row.object_type,
            "object_id": row.object_id,
            "person_id": row.person_id,
            "institution_id": row.institution_id,
            "details": row.details,
            "prev_hash": prev_hash,
        }
        text = json.dumps(
            payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        connection.execute(
            sa.update(events)
            .where(events.c.id == row.id)
            .values(seq=seq, prev_hash=prev_hash, hash=digest)
        )
        prev_hash = digest
    return seq, prev_hash
