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
    upgrade(db_url, "0005_batch_inquiries")
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
        upgrade(db_url)
        assert "audit_chain_head" not in _tables(db_url)
        with engine.connect() as connection:
            pending = connection.execute(
                text("SELECT count(*) FROM audit_events WHERE leaf_index IS NULL")
            ).scalar()
        assert pending == 2

        downgrade(db_url, "0005_batch_inquiries")
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
