"""The Alembic migrations build exactly the models' schema, and go back down, on both backends."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from onshi.cli import main
from onshi.db.migrate import alembic_config, downgrade, upgrade
from onshi.db.registry import load_all_models


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_creates_every_model_table_and_downgrade_removes_them(db_url: str) -> None:
    expected = set(load_all_models().tables)

    upgrade(db_url)
    assert _tables(db_url) == expected | {"alembic_version"}

    downgrade(db_url, "base")
    assert _tables(db_url) == {"alembic_version"}

    upgrade(db_url)  # and up again from base
    assert _tables(db_url) == expected | {"alembic_version"}


def test_migrated_schema_matches_the_models(db_url: str) -> None:
    upgrade(db_url)
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, load_all_models()) == []
    finally:
        engine.dispose()
    command.check(alembic_config(db_url))  # raises if autogenerate would emit anything


def test_transparency_log_migration_converts_chained_events_and_back(db_url: str) -> None:
    """0009 keeps every chained event as an entry awaiting integration and drops the chain;
    its downgrade rebuilds a chain over the same events."""
    upgrade(db_url, "0011_staff_accounts")
    engine = create_engine(db_url)
    try:
        with engine.begin() as connection:
            for seq in (1, 2):
                connection.execute(
                    text(
                        "INSERT INTO audit_events (seq, occurred_at, actor_kind, actor_id, action,"
                        " object_type, object_id, details, prev_hash, hash) VALUES (:seq,"
                        " :at, 'system', NULL, 'test.event', 'thing', '1', '{}', :prev, :hash)"
                    ),
                    {"seq": seq, "at": "2026-04-01 00:00:00", "prev": "0" * 64, "hash": str(seq)},
                )
        upgrade(db_url, "0014_insurer_admins")
        assert "audit_chain_head" not in _tables(db_url)
        with engine.connect() as connection:
            pending = connection.execute(
                text("SELECT count(*) FROM audit_events WHERE leaf_index IS NULL")
            ).scalar()
        assert pending == 2

        downgrade(db_url, "0011_staff_accounts")
        with engine.connect() as connection:
            head = connection.execute(text("SELECT last_seq FROM audit_chain_head")).scalar()
            seqs = connection.execute(text("SELECT seq FROM audit_events ORDER BY id")).all()
        assert head == 2
        assert [row[0] for row in seqs] == [1, 2]
    finally:
        engine.dispose()


def test_onshi_migrate_command(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ONSHI_ENV", "test")
    monkeypatch.setenv("ONSHI_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("ONSHI_MY_NUMBER_KEY", "m" * 40)
    monkeypatch.setenv("ONSHI_DATABASE_URL", db_url)

    assert main(["migrate"]) == 0

    assert "migrated" in capsys.readouterr().out
    assert set(load_all_models().tables) <= _tables(db_url)


def test_horizon_migration_keeps_waiting_entries_waiting_and_back(db_url: str) -> None:
    """0015 drops ``leaf_index``: an entry integrated before stays in the tree and is not taken
    again, one still waiting is integrated after the upgrade; the node levels between tiles
    go, and the downgrade puts positions and every level back."""
    upgrade(db_url, "0014_insurer_admins")
    engine = create_engine(db_url)
    entry = (
        "INSERT INTO audit_events (occurred_at, actor_kind, actor_id, action, object_type,"
        " object_id, details, leaf_index) VALUES ('2026-04-01 00:00:00', 'system', NULL,"
        " 'test.event', 'thing', :n, '{}', :at)"
    )
    try:
        with engine.begin() as connection:
            for n, at in ((1, 0), (2, 1), (3, None)):
                connection.execute(text(entry), {"n": str(n), "at": at})
            ids = [
                row[0]
                for row in connection.execute(text("SELECT id FROM audit_events ORDER BY id"))
            ]
            for position, entry_id in enumerate(ids[:2]):
                connection.execute(
                    text("INSERT INTO tlog_leaves VALUES (:at, 'audit', :id, :hash)"),
                    {"at": position, "id": entry_id, "hash": bytes(32)},
                )
            connection.execute(
                text("INSERT INTO tlog_nodes VALUES (1, 0, :hash)"), {"hash": bytes(32)}
            )
            connection.execute(
                text(
                    "INSERT INTO tlog_state (id, tree_size, right_edge, root_hash, updated_at)"
                    " VALUES (1, 2, :edge, :root, '2026-04-01 00:00:00')"
                ),
                {"edge": bytes(32), "root": bytes(32)},
            )
        upgrade(db_url)
        with engine.connect() as connection:
            waiting = connection.execute(
                text(
                    "SELECT count(*) FROM audit_events e WHERE NOT EXISTS (SELECT 1 FROM"
                    " tlog_leaves l WHERE l.entry_kind = 'audit' AND l.entry_id = e.id)"
                )
            ).scalar()
            assert waiting == 1
            assert connection.execute(text("SELECT count(*) FROM tlog_nodes")).scalar() == 0
        from tests.tlog_helpers import integrate

        assert integrate(engine) == 1  # only the waiting one
        with engine.connect() as connection:
            placed = connection.execute(
                text("SELECT entry_id, leaf_index FROM tlog_leaves ORDER BY leaf_index")
            ).all()
        assert [tuple(row) for row in placed] == [(ids[0], 0), (ids[1], 1), (ids[2], 2)]

        downgrade(db_url, "0014_insurer_admins")
        with engine.connect() as connection:
            back = connection.execute(text("SELECT leaf_index FROM audit_events ORDER BY id")).all()
            nodes = connection.execute(text("SELECT level, node_index FROM tlog_nodes")).all()
        assert [row[0] for row in back] == [0, 1, 2]
        assert [tuple(row) for row in nodes] == [(1, 0)]
    finally:
        engine.dispose()
