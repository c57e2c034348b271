"""member records, member links, member-keyed records, hyphen-free lookup keys

A qualification row becomes a member record carrying the 5 items as its insurer registered
them; ``qualifications.person_id`` + ``five_item_status`` become rows of ``member_links``
(matched → linked; failed → held ``five_item_failed``; pending → held ``five_item_pending``; not
checked → undone ``no_my_number``: the former schema tied the member to the person without any
個人番号, which the new rule does not accept). Drug, health-check, clinical and expense records
move from the person to the member record they fall under (covering date, same insurer first).
Lookup keys lose their hyphens. Verification events get the reason of a 4 資格情報なし.

Revision ID: 0006_member_records
Revises: 0005_batch_inquiries
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

import onshi.db.types

revision: str = "0006_member_records"
down_revision: str | None = "0005_batch_inquiries"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_IDEOGRAPHIC_SPACE = "\u3000"

#: record table → (its date column, whether it names an insurer)
_RECORDS: dict[str, tuple[str, bool]] = {
    "drug_records": ("dispensed_on", False),
    "health_check_records": ("checked_on", True),
    "clinical_records": ("visit_on", False),
    "medical_expense_records": ("service_month", True),
}
_OLD_INDEXES = {
    "drug_records": "ix_drug_records_person_dispensed",
    "health_check_records": "ix_health_check_records_person_checked",
    "clinical_records": "ix_clinical_records_person_visit",
    "medical_expense_records": "ix_medical_expense_records_person_month",
}
_NEW_INDEXES = {
    "drug_records": "ix_drug_records_member_dispensed",
    "health_check_records": "ix_health_check_records_member_checked",
    "clinical_records": "ix_clinical_records_member_visit",
    "medical_expense_records": "ix_medical_expense_records_member_month",
}
_POSTAL_DIGITS = (
    "(length(postal_code) = 7) AND replace(replace(replace(replace(replace(replace(replace("
    "replace(replace(replace(postal_code, '0', ''), '1', ''), '2', ''), '3', ''), '4', ''), '5', "
    "''), '6', ''), '7', ''), '8', ''), '9', '') = ''"
)


def _member_passes(table: str, day: str, by_insurer: bool) -> list[str]:
    """UPDATEs giving each record the person's qualification it falls under, tried in order
    on the rows still without one: same insurer first (when the record names one), in force on
    the record's date, else the newest acquired before it; last, the person's earliest one.
    (SQLite allows the outer row in a subquery's WHERE, not in its ORDER BY: hence passes.)"""
    d = f"{table}.{day}"
    covering = f"q.acquired_on <= {d} AND (q.lost_on IS NULL OR q.lost_on > {d})"
    before = f"q.acquired_on <= {d}"
    scopes = [f" AND q.insurer_id = {table}.insurer_id", ""] if by_insurer else [""]
    passes = [
        (f"{condition}{scope}", "q.acquired_on DESC, q.id DESC")
        for scope in scopes
        for condition in (covering, before)
    ]
    passes.append(("1 = 1", "q.acquired_on, q.id"))
    return [
        f"UPDATE {table} SET qualification_id = (SELECT q.id FROM qualifications q "
        f"WHERE q.person_id = {table}.person_id AND {condition} ORDER BY {order} LIMIT 1) "
        "WHERE qualification_id IS NULL"
        for condition, order in passes
    ]


def _suspend_foreign_keys(bind: sa.Connection) -> None:
    """SQLite alters a table by rebuilding it (copy, drop, rename): with foreign keys
    enforced, dropping a table others reference fails. The checks are switched off for this
    connection (effective because no transaction has begun yet) and :func:`_check_foreign_keys`
    verifies every reference at the end instead."""
    if bind.dialect.name == "sqlite":
        bind.exec_driver_sql("PRAGMA foreign_keys = OFF")


def _check_foreign_keys(bind: sa.Connection) -> None:
    if bind.dialect.name == "sqlite":
        broken = bind.exec_driver_sql("PRAGMA foreign_key_check").all()
        if broken:
            raise RuntimeError(f"foreign keys broken by the migration: {broken[:5]}")
        bind.exec_driver_sql("PRAGMA foreign_keys = ON")


def upgrade() -> None:
    bind = op.get_bind()
    _suspend_foreign_keys(bind)
    with op.batch_alter_table("qualifications") as batch:
        batch.add_column(sa.Column("name", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("name_kana", sa.String(length=256), nullable=True))
        batch.add_column(sa.Column("birth_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("sex", sa.String(length=1), nullable=True))
        batch.add_column(sa.Column("address", sa.String(length=256), nullable=True))
        batch.add_column(sa.Column("postal_code", sa.String(length=7), nullable=True))
    person = "FROM persons p WHERE p.id = qualifications.person_id"
    op.execute(
        "UPDATE qualifications SET "
        f"name = (SELECT p.family_name || '{_IDEOGRAPHIC_SPACE}' || p.given_name {person}), "
        f"name_kana = (SELECT p.family_name_kana || '{_IDEOGRAPHIC_SPACE}' || "
        f"p.given_name_kana {person}), "
        f"birth_date = (SELECT p.birth_date {person}), sex = (SELECT p.sex {person}), "
        f"address = (SELECT p.address {person}), postal_code = (SELECT p.postal_code {person}), "
        "symbol_key = replace(symbol_key, '-', ''), number_key = replace(number_key, '-', '')"
    )

    op.create_table(
        "member_links",
        sa.Column("qualification_id", _ID, nullable=False),
        sa.Column("person_id", _ID, nullable=False),
        sa.Column("status", sa.String(length=14), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("variations", sa.JSON(), nullable=False),
        sa.Column("differences", sa.JSON(), nullable=False),
        sa.Column("reason_code", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=512), nullable=True),
        sa.Column("actor_kind", sa.String(length=14), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", onshi.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", onshi.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.CheckConstraint(
            "actor_kind IN ('staff', 'insurer_system', 'system')",
            name=op.f("ck_member_links_actor_kind"),
        ),
        sa.CheckConstraint(
            "ended_at IS NULL OR ended_at >= created_at",
            name=op.f("ck_member_links_ended_after_created"),
        ),
        sa.CheckConstraint(
            "method IN ('my_number', 'five_item_search', 'operator', 'migrated')",
            name=op.f("ck_member_links_method"),
        ),
        sa.CheckConstraint(
            "status IN ('linked', 'linked_confirm', 'held', 'disputed', 'undone')",
            name=op.f("ck_member_links_status"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_member_links_person_id_persons"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["qualification_id"],
            ["qualifications.id"],
            name=op.f("fk_member_links_qualification_id_qualifications"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_links")),
    )
    op.create_index(
        "ix_member_links_person_current", "member_links", ["person_id", "ended_at"], unique=False
    )
    op.create_index(
        "ix_member_links_qualification_created",
        "member_links",
        ["qualification_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "uq_member_links_current",
        "member_links",
        ["qualification_id"],
        unique=True,
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    json_empty = "CAST('[]' AS JSON)" if bind.dialect.name == "postgresql" else "'[]'"
    op.execute(
        "INSERT INTO member_links (qualification_id, person_id, status, method, variations, "
        "differences, reason_code, reason, actor_kind, actor_id, created_at, ended_at) "
        "SELECT id, person_id, CASE five_item_status WHEN 'matched' THEN 'linked' "
        "WHEN 'not_checked' THEN 'undone' ELSE 'held' END, 'migrated', "
        f"{json_empty}, {json_empty}, "
        "CASE five_item_status WHEN 'matched' THEN NULL WHEN 'failed' THEN 'five_item_failed' "
        "WHEN 'pending' THEN 'five_item_pending' ELSE 'no_my_number' END, "
        "CASE five_item_status WHEN 'matched' THEN NULL "
        "WHEN 'failed' THEN 'the 5-item check failed before the member-record migration' "
        "WHEN 'pending' THEN 'the 5-item check was pending at the member-record migration' "
        "ELSE 'registered without a My Number: no 5-item check was ever made' END, "
        "'system', NULL, registered_at, NULL FROM qualifications"
    )

    for table, (day, by_insurer) in _RECORDS.items():
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("qualification_id", _ID, nullable=True))
        for statement in _member_passes(table, day, by_insurer):
            op.execute(statement)
        orphans = bind.execute(
            sa.text(f"SELECT count(*) FROM {table} WHERE qualification_id IS NULL")
        ).scalar_one()
        if orphans:
            raise RuntimeError(
                f"{table}: {orphans} rows belong to persons without any qualification, so no "
                "member record can own them; register the members first (nothing was changed)"
            )
        op.drop_index(_OLD_INDEXES[table], table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.alter_column("qualification_id", existing_type=_ID, nullable=False)
            batch.drop_constraint(f"fk_{table}_person_id_persons", type_="foreignkey")
            batch.drop_column("person_id")
            batch.create_foreign_key(
                f"fk_{table}_qualification_id_qualifications",
                "qualifications",
                ["qualification_id"],
                ["id"],
                ondelete="CASCADE",
            )
        op.create_index(_NEW_INDEXES[table], table, ["qualification_id", day], unique=False)

    op.drop_index("ix_qualifications_five_item_status", table_name="qualifications")
    op.drop_index("ix_qualifications_person_acquired", table_name="qualifications")
    with op.batch_alter_table("qualifications") as batch:
        for column in ("name", "name_kana", "birth_date", "sex"):
            batch.alter_column(column, existing_type=_type_of(column), nullable=False)
        batch.drop_constraint(op.f("ck_qualifications_five_item_status"), type_="check")
        batch.drop_constraint("fk_qualifications_person_id_persons", type_="foreignkey")
        batch.drop_column("five_item_status")
        batch.drop_column("person_id")
        batch.create_check_constraint("sex", "sex IN ('1', '2', '3')")
        batch.create_check_constraint("postal_code_digits", _POSTAL_DIGITS)

    with op.batch_alter_table("verification_events") as batch:
        batch.add_column(sa.Column("not_found_reason", sa.String(length=9), nullable=True))
        batch.add_column(sa.Column("held_qualification_id", _ID, nullable=True))
        batch.create_check_constraint(
            "not_found_reason", "not_found_reason IN ('no_member', 'held')"
        )
        batch.create_foreign_key(
            "fk_verification_events_held_qualification_id_qualifications",
            "qualifications",
            ["held_qualification_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_index(
        op.f("ix_verification_events_held_qualification_id"),
        "verification_events",
        ["held_qualification_id"],
        unique=False,
    )
    _check_foreign_keys(bind)


def _type_of(column: str) -> sa.types.TypeEngine[Any]:
    types: dict[str, sa.types.TypeEngine[Any]] = {
        "name": sa.String(length=128),
        "name_kana": sa.String(length=256),
        "birth_date": sa.Date(),
        "sex": sa.String(length=1),
    }
    return types[column]


def downgrade() -> None:
    bind = op.get_bind()
    _suspend_foreign_keys(bind)
    op.drop_index(
        op.f("ix_verification_events_held_qualification_id"), table_name="verification_events"
    )
    with op.batch_alter_table("verification_events") as batch:
        batch.drop_constraint(
            "fk_verification_events_held_qualification_id_qualifications", type_="foreignkey"
        )
        batch.drop_constraint(op.f("ck_verification_events_not_found_reason"), type_="check")
        batch.drop_column("held_qualification_id")
        batch.drop_column("not_found_reason")

    with op.batch_alter_table("qualifications") as batch:
        batch.add_column(sa.Column("person_id", _ID, nullable=True))
        batch.add_column(sa.Column("five_item_status", sa.String(length=11), nullable=True))
    latest = (
        "FROM member_links l WHERE l.qualification_id = qualifications.id "
        "ORDER BY l.created_at DESC, l.id DESC LIMIT 1"
    )
    op.execute(
        f"UPDATE qualifications SET person_id = (SELECT l.person_id {latest}), "
        "five_item_status = COALESCE((SELECT CASE "
        "WHEN l.status IN ('linked', 'linked_confirm') THEN 'matched' "
        "WHEN l.status = 'held' AND l.reason_code = 'five_item_pending' THEN 'pending' "
        "WHEN l.status = 'undone' AND l.reason_code = 'no_my_number' THEN 'not_checked' "
        f"ELSE 'failed' END {latest}), 'not_checked')"
    )
    _persons_for_unlinked_members(bind)

    for table, (day, _by_insurer) in _RECORDS.items():
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("person_id", _ID, nullable=True))
        op.execute(
            f"UPDATE {table} SET person_id = (SELECT q.person_id FROM qualifications q "
            f"WHERE q.id = {table}.qualification_id)"
        )
        op.drop_index(_NEW_INDEXES[table], table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.alter_column("person_id", existing_type=_ID, nullable=False)
            batch.drop_constraint(f"fk_{table}_qualification_id_qualifications", "foreignkey")
            batch.drop_column("qualification_id")
            batch.create_foreign_key(
                f"fk_{table}_person_id_persons",
                "persons",
                ["person_id"],
                ["id"],
                ondelete="CASCADE",
            )
        op.create_index(_OLD_INDEXES[table], table, ["person_id", day], unique=False)

    op.drop_index("uq_member_links_current", table_name="member_links")
    op.drop_index("ix_member_links_qualification_created", table_name="member_links")
    op.drop_index("ix_member_links_person_current", table_name="member_links")
    op.drop_table("member_links")

    _hyphenated_keys(bind)
    with op.batch_alter_table("qualifications") as batch:
        batch.alter_column("person_id", existing_type=_ID, nullable=False)
        batch.alter_column("five_item_status", existing_type=sa.String(length=11), nullable=False)
        batch.create_foreign_key(
            "fk_qualifications_person_id_persons",
            "persons",
            ["person_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_check_constraint(
            "five_item_status",
            "five_item_status IN ('pending', 'matched', 'failed', 'not_checked')",
        )
        batch.drop_constraint(op.f("ck_qualifications_postal_code_digits"), type_="check")
        batch.drop_constraint(op.f("ck_qualifications_sex"), type_="check")
        for column in ("postal_code", "address", "sex", "birth_date", "name_kana", "name"):
            batch.drop_column(column)
    op.create_index(
        "ix_qualifications_person_acquired",
        "qualifications",
        ["person_id", "acquired_on"],
        unique=False,
    )
    op.create_index(
        "ix_qualifications_five_item_status",
        "qualifications",
        ["insurer_id", "five_item_status"],
        unique=False,
    )
    _check_foreign_keys(bind)


def _persons_for_unlinked_members(bind: sa.Connection) -> None:
    """The former schema needs a person for every qualification: a member record that was
    never linked gets a person made from its own 5 items (no My Number)."""
    rows = bind.execute(
        sa.text(
            "SELECT q.id, q.name, q.name_kana, q.birth_date, q.sex, q.address, q.postal_code, "
            "i.prefecture_code FROM qualifications q JOIN insurers i ON i.id = q.insurer_id "
            "WHERE q.person_id IS NULL"
        ).columns(
            sa.column("id", _ID),
            sa.column("name", sa.String()),
            sa.column("name_kana", sa.String()),
            sa.column("birth_date", sa.Date()),
            sa.column("sex", sa.String()),
            sa.column("address", sa.String()),
            sa.column("postal_code", sa.String()),
            sa.column("prefecture_code", sa.String()),
        )
    ).all()
    persons = sa.table(
        "persons",
        sa.column("id", _ID),
        sa.column("family_name", sa.String()),
        sa.column("given_name", sa.String()),
        sa.column("family_name_kana", sa.String()),
        sa.column("given_name_kana", sa.String()),
        sa.column("birth_date", sa.Date()),
        sa.column("sex", sa.String()),
        sa.column("postal_code", sa.String()),
        sa.column("address", sa.String()),
        sa.column("prefecture_code", sa.String()),
        sa.column("my_number_hash", sa.String()),
        sa.column("created_at", onshi.db.types.UTCDateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    for row in rows:
        family, _, given = str(row.name).partition(_IDEOGRAPHIC_SPACE)
        family_kana, _, given_kana = str(row.name_kana).partition(_IDEOGRAPHIC_SPACE)
        person_id = bind.execute(
            persons.insert()
            .values(
                family_name=family[:64],
                given_name=given[:64],
                family_name_kana=family_kana[:128],
                given_name_kana=given_kana[:128],
                birth_date=row.birth_date,
                sex=row.sex,
                postal_code=row.postal_code,
                address=row.address or "",
                prefecture_code=row.prefecture_code,
                my_number_hash=None,
                created_at=now,
            )
            .returning(persons.c.id)
        ).scalar_one()
        bind.execute(
            sa.text("UPDATE qualifications SET person_id = :person WHERE id = :id"),
            {"person": person_id, "id": row.id},
        )


def _hyphenated_keys(bind: sa.Connection) -> None:
    """The former keys kept the hyphens of the printed 記号・番号 (normalised)."""
    from onshi.identifiers import IdentifierError, normalize_number, normalize_symbol

    rows = bind.execute(
        sa.text("SELECT id, symbol, number, symbol_key, number_key FROM qualifications")
    ).all()
    for row in rows:
        try:
            symbol_key = normalize_symbol(row.symbol) or ""
            number_key = normalize_number(row.number)
        except IdentifierError:
            continue  # a printed value no counter can type (●) kept its raw key
        if (symbol_key, number_key) != (row.symbol_key, row.number_key):
            bind.execute(
                sa.text("UPDATE qualifications SET symbol_key = :s, number_key = :n WHERE id = :id"),
                {"s": symbol_key, "n": number_key, "id": row.id},
            )
