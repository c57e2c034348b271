"""transparency log: entries are never rewritten; the integrator keeps a horizon; node tiles

The integrator used to write each entry's position back into its row (``leaf_index``): a second
version of every audit event and access-log row, with all of its index entries, for every entry.
The position now lives only in ``tlog_leaves`` (which already held it, unique per entry), and
what still waits is found from a horizon kept in ``tlog_state``:

- PostgreSQL: every entry row records the transaction that wrote it (``tx_id``, filled by the
  database with ``pg_current_xact_id()``); the horizon is an xid below which every entry is in
  the tree (the ``xmin`` of the integrator's snapshot). Rows waiting at the upgrade get the
  upgrade's own transaction id; integrated rows keep ``tx_id`` NULL.
- SQLite: one writer at a time, so ids commit in order; the horizon of each table is the
  first id that may still wait (the smallest waiting id at the upgrade, else the largest id + 1).

``tlog_nodes`` keeps only the levels that are multiples of 8 (tiles of 256 hashes); the other
levels are computed from the level below when a proof needs them, and their rows are deleted.

Downgrade puts ``leaf_index`` back from ``tlog_leaves`` (entries not yet integrated stay NULL)
and recomputes the removed node levels from the leaves.

Revision ID: 0015_tlog_horizon
Revises: 0014_insurer_admins
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_tlog_horizon"
down_revision: str | None = "0014_insurer_admins"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ENTRIES = (("audit_events", "audit"), ("data_access_log", "access"))
_WRITTEN = sa.text("tx_id IS NOT NULL")
_PENDING = sa.text("leaf_index IS NULL")


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    postgresql = _postgresql()
    with op.batch_alter_table("tlog_state") as batch:
        for column in ("audit_horizon", "access_horizon"):
            batch.add_column(
                sa.Column(column, sa.BigInteger(), server_default=sa.text("0"), nullable=False)
            )
    for table, kind in _ENTRIES:
        default = sa.text("(pg_current_xact_id()::text::bigint)") if postgresql else None
        op.add_column(table, sa.Column("tx_id", sa.BigInteger(), server_default=default))
        if postgresql:
            op.execute(
                sa.text(
                    f"UPDATE {table} SET tx_id = pg_current_xact_id()::text::bigint"  # noqa: S608
                    " WHERE leaf_index IS NULL"
                )
            )
        else:
            op.execute(
                sa.text(
                    f"UPDATE tlog_state SET {kind}_horizon = coalesce("  # noqa: S608
                    f"(SELECT min(id) FROM {table} WHERE leaf_index IS NULL),"
                    f" (SELECT max(id) FROM {table}) + 1, 0)"
                )
            )
        op.drop_index(f"ix_{table}_pending", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"uq_{table}_leaf_index"), type_="unique")
            batch.drop_column("leaf_index")
        op.create_index(
            f"ix_{table}_tx_id",
            table,
            ["tx_id"],
            postgresql_where=_WRITTEN,
            sqlite_where=_WRITTEN,
        )
    op.execute(sa.text("DELETE FROM tlog_nodes WHERE level % 8 <> 0"))


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _restore_nodes(connection: sa.Connection) -> None:
    """Every complete subtree of level >= 1 again (the rows revision 0014 kept), from the leaves."""
    connection.execute(sa.text("DELETE FROM tlog_nodes"))
    level_hashes = [
        bytes(h)
        for (h,) in connection.execute(
            sa.text("SELECT leaf_hash FROM tlog_leaves ORDER BY leaf_index")
        )
    ]
    insert = sa.text("INSERT INTO tlog_nodes (level, node_index, hash) VALUES (:l, :i, :h)")
    level = 0
    while len(level_hashes) >= 2:
        level += 1
        level_hashes = [
            _node(level_hashes[i], level_hashes[i + 1]) for i in range(0, len(level_hashes) - 1, 2)
        ]
        rows = [{"l": level, "i": i, "h": h} for i, h in enumerate(level_hashes)]
        if rows:
            connection.execute(insert, rows)


def downgrade() -> None:
    connection = op.get_bind()
    for table, kind in _ENTRIES:
        op.drop_index(f"ix_{table}_tx_id", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("leaf_index", sa.BigInteger(), nullable=True))
            batch.create_unique_constraint(op.f(f"uq_{table}_leaf_index"), ["leaf_index"])
            batch.drop_column("tx_id")
        op.execute(
            sa.text(
                f"UPDATE {table} SET leaf_index = (SELECT l.leaf_index FROM tlog_leaves l"  # noqa: S608
                f" WHERE l.entry_kind = '{kind}' AND l.entry_id = {table}.id)"
            )
        )
        op.create_index(
            f"ix_{table}_pending",
            table,
            ["id"],
            postgresql_where=_PENDING,
            sqlite_where=_PENDING,
        )
    with op.batch_alter_table("tlog_state") as batch:
        batch.drop_column("access_horizon")
        batch.drop_column("audit_horizon")
    _restore_nodes(connection)
