"""Migration 0007 keeps the residents of the older simulated_resident_registry table (and goes
back down with them), on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from onshi.db.migrate import downgrade, upgrade

_ROW = (
    "INSERT INTO {table} (id, my_number_hash, family_name, given_name, family_name_kana, "
    "given_name_kana, birth_date, sex, postal_code, address, prefecture_code) VALUES "
    "({id}, '{hash}', '山田', '太郎', 'ヤマダ', 'タロウ', '1980-05-17', '1', '1000001', "
    "'東京都千代田区千代田1-1', {prefecture})"
)


def test_residents_survive_the_move_and_ids_continue(db_url: str) -> None:
    upgrade(db_url, "0005_batch_inquiries")
    engine = create_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    _ROW.format(
                        table="simulated_resident_registry", id=7, hash="a" * 64, prefecture="'13'"
                    )
                )
            )
        upgrade(db_url)
        with engine.begin() as connection:
            rows = connection.execute(
                text("SELECT id, family_name, prefecture_code FROM sim_jlis_residents")
            ).all()
            assert [tuple(row) for row in rows] == [(7, "山田", "13")]
            connection.execute(
                text(
                    "INSERT INTO sim_jlis_residents (my_number_hash, family_name, given_name, "
                    "family_name_kana, given_name_kana, birth_date, sex, address) VALUES "
                    "(:h, '李', '', 'リ', '', '1990-01-01', '2', '千代田区')"
                ),
                {"h": "b" * 64},
            )
            new_id = connection.scalar(text("SELECT max(id) FROM sim_jlis_residents"))
            assert new_id is not None
            assert new_id > 7
        downgrade(db_url, "0005_batch_inquiries")
        with engine.begin() as connection:
            back = connection.execute(
                text("SELECT id, my_number_hash FROM simulated_resident_registry")
            ).all()
        assert [tuple(row) for row in back] == [
            (7, "a" * 64)
        ]  # the one without a prefecture cannot go back
    finally:
        engine.dispose()
