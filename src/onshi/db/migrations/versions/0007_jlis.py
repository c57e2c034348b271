"""SIMULATED J-LIS: residents move from simulated_resident_registry to sim_jlis_residents (their
rows kept; the prefecture becomes optional), and the certificate issuance records

Revision ID: 0007
Revises: 0005_batch_inquiries
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import onshi.db.types

revision: str = "0007"
down_revision: str | None = "0006_member_records"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_COLUMNS = (
    "id, my_number_hash, family_name, given_name, family_name_kana, given_name_kana, "
    "birth_date, sex, postal_code, address, prefecture_code"
)


def _id() -> sa.Column[int]:
    return sa.Column("id", _ID, autoincrement=True, nullable=False)


def _postal_digits(table: str) -> sa.CheckConstraint:
    stripped = "postal_code"
    for digit in "0123456789":
        stripped = f"replace({stripped}, '{digit}', '')"
    return sa.CheckConstraint(
        f"(length(postal_code) = 7) AND {stripped} = ''",
        name=op.f(f"ck_{table}_postal_code_digits"),
    )


def _resident_columns(*, prefecture_nullable: bool) -> list[sa.Column[Any]]:
    return [
        sa.Column("my_number_hash", sa.String(length=64), nullable=False),
        sa.Column("family_name", sa.String(length=64), nullable=False),
        sa.Column("given_name", sa.String(length=64), nullable=False),
        sa.Column("family_name_kana", sa.String(length=128), nullable=False),
        sa.Column("given_name_kana", sa.String(length=128), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("postal_code", sa.String(length=7), nullable=True),
        sa.Column("address", sa.String(length=256), nullable=False),
        sa.Column("prefecture_code", sa.String(length=2), nullable=prefecture_nullable),
        _id(),
    ]


def upgrade() -> None:
    op.create_table(
        "sim_jlis_residents",
        *_resident_columns(prefecture_nullable=True),
        _postal_digits("sim_jlis_residents"),
        sa.CheckConstraint(
            "prefecture_code IS NULL OR "
            "(length(prefecture_code) = 2 AND prefecture_code BETWEEN '01' AND '47')",
            name=op.f("ck_sim_jlis_residents_prefecture_code"),
        ),
        sa.CheckConstraint("sex IN ('1', '2', '3')", name=op.f("ck_sim_jlis_residents_sex")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sim_jlis_residents")),
        sa.UniqueConstraint("my_number_hash", name=op.f("uq_sim_jlis_residents_my_number_hash")),
    )
    op.create_index(
        "ix_sim_jlis_residents_birth_date_sex",
        "sim_jlis_residents",
        ["birth_date", "sex"],
        unique=False,
    )
    op.execute(
        f"INSERT INTO sim_jlis_residents ({_COLUMNS}) "
        f"SELECT {_COLUMNS} FROM simulated_resident_registry"
    )
    _restart_identity("sim_jlis_residents")
    op.drop_table("simulated_resident_registry")
    op.create_table(
        "sim_jlis_certificates",
        sa.Column("resident_id", _ID, nullable=False),
        sa.Column("certificate_issuer", sa.String(length=512), nullable=False),
        sa.Column("certificate_serial", sa.String(length=64), nullable=False),
        sa.Column("fingerprint_sha256", sa.String(length=64), nullable=False),
        sa.Column("not_before", onshi.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("not_after", onshi.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("issued_at", onshi.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", onshi.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revocation_reason", sa.String(length=32), nullable=True),
        _id(),
        sa.CheckConstraint(
            "not_before < not_after", name=op.f("ck_sim_jlis_certificates_validity_order")
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["sim_jlis_residents.id"],
            name=op.f("fk_sim_jlis_certificates_resident_id_sim_jlis_residents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sim_jlis_certificates")),
        sa.UniqueConstraint(
            "fingerprint_sha256", name=op.f("uq_sim_jlis_certificates_fingerprint_sha256")
        ),
        sa.UniqueConstraint(
            "certificate_issuer",
            "certificate_serial",
            name=op.f("uq_sim_jlis_certificates_issuer_serial"),
        ),
    )
    op.create_index(
        op.f("ix_sim_jlis_certificates_resident_id"),
        "sim_jlis_certificates",
        ["resident_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_sim_jlis_certificates_resident_id"), table_name="sim_jlis_certificates")
    op.drop_table("sim_jlis_certificates")
    op.create_table(
        "simulated_resident_registry",
        *_resident_columns(prefecture_nullable=False),
        _postal_digits("simulated_resident_registry"),
        sa.CheckConstraint(
            "length(prefecture_code) = 2 AND prefecture_code BETWEEN '01' AND '47'",
            name=op.f("ck_simulated_resident_registry_prefecture_code"),
        ),
        sa.CheckConstraint(
            "sex IN ('1', '2', '3')", name=op.f("ck_simulated_resident_registry_sex")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_simulated_resident_registry")),
        sa.UniqueConstraint(
            "my_number_hash", name=op.f("uq_simulated_resident_registry_my_number_hash")
        ),
    )
    # Residents loaded without a prefecture cannot go back into the older table.
    op.execute(
        f"INSERT INTO simulated_resident_registry ({_COLUMNS}) "
        f"SELECT {_COLUMNS} FROM sim_jlis_residents WHERE prefecture_code IS NOT NULL"
    )
    _restart_identity("simulated_resident_registry")
    op.drop_index("ix_sim_jlis_residents_birth_date_sex", table_name="sim_jlis_residents")
    op.drop_table("sim_jlis_residents")


def _restart_identity(table: str) -> None:
    """PostgreSQL: move the id sequence past the copied ids (SQLite needs nothing)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"
        )
