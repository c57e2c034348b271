"""Revision 0006 on a database holding person-keyed data: up to member records and links, and
back down, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, create_engine, select, text

from onshi.db.migrate import downgrade, upgrade

NOW = datetime(2026, 4, 1, tzinfo=UTC)


@pytest.fixture
def engine_at_0005(db_url: str) -> Iterator[Engine]:
    upgrade(db_url, "0005_batch_inquiries")
    engine = create_engine(db_url)
    yield engine
    engine.dispose()


def _tables(engine: Engine) -> Any:
    metadata = MetaData()
    metadata.reflect(engine)
    return metadata.tables


def _person(n: int, family: str = "山田") -> dict[str, Any]:
    return {
        "id": n, "family_name": family, "given_name": f"太郎{n}", "family_name_kana": "ヤマダ",
        "given_name_kana": "タロウ", "birth_date": date(1980, 5, n), "sex": "1",
        "postal_code": "1000001", "address": f"東京都千代田区千代田1-{n}", "prefecture_code": "13",
        "my_number_hash": f"{n:064x}", "created_at": NOW,
    }  # fmt: skip


def _qualification(n: int, person: int, status: str, **extra: Any) -> dict[str, Any]:
    row = {
        "id": n, "person_id": person, "insurer_id": 1, "card_class": "01", "symbol": "12-3",
        "number": f"45-{n}", "branch": "00", "symbol_key": "12-3", "number_key": f"45-{n}",
        "relationship": "1", "acquired_on": date(2020, 4, 1), "lost_on": None,
        "loss_reason": None, "issued_on": date(2020, 4, 1), "valid_from": date(2020, 4, 1),
        "valid_to": None, "copayment_ratio": "030", "preschool": False,
        "elderly_certificate_ratio": None, "elderly_certificate_valid_from": None,
        "elderly_certificate_valid_to": None, "notified_on": date(2020, 4, 1),
        "registered_at": datetime(2020, 4, 3, tzinfo=UTC), "five_item_status": status,
        "created_at": NOW,
    }  # fmt: skip
    row.update(extra)
    return row


def _drug(n: int, person: int, day: date) -> dict[str, Any]:
    return {
        "id": n, "person_id": person, "dispensed_on": day, "claim_month": None,
        "institution_id": None, "institution_name": "薬局", "prescribing_institution_name": None,
        "drug_code": "2149039F1020", "drug_name": "薬", "quantity": 1.0, "unit": "錠",
        "days": 7, "source": "claim",
    }  # fmt: skip


def _seed_old_schema(engine: Engine) -> None:
    t = _tables(engine)
    with engine.begin() as c:
        c.execute(t["insurers"].insert(), [{
            "id": 1, "number": "01130012", "name": "協会けんぽ東京支部", "kind": "kyokai_kenpo",
            "prefecture_code": "13", "houbetsu": "01", "created_at": NOW,
        }, {
            "id": 2, "number": "06130014", "name": "健保組合", "kind": "kenpo_kumiai",
            "prefecture_code": "13", "houbetsu": "06", "created_at": NOW,
        }])  # fmt: skip
        c.execute(t["persons"].insert(), [_person(n) for n in (1, 2, 3, 4)])
        c.execute(
            t["qualifications"].insert(),
            [
                # person 1 changed jobs: lost at insurer 1 on 2024-04-01, then insurer 2
                _qualification(1, 1, "matched", lost_on=date(2024, 4, 1), loss_reason="03"),
                _qualification(2, 1, "matched", insurer_id=2, acquired_on=date(2024, 4, 1),
                               valid_from=date(2024, 4, 1)),
                _qualification(3, 2, "failed"),
                _qualification(4, 3, "pending"),
                _qualification(5, 4, "not_checked"),
            ],
        )  # fmt: skip
        c.execute(
            t["drug_records"].insert(),
            [_drug(1, 1, date(2023, 1, 5)), _drug(2, 1, date(2025, 1, 5)),
             _drug(3, 2, date(2025, 1, 5)), _drug(4, 1, date(2019, 1, 5))],
        )  # fmt: skip
        if engine.dialect.name == "postgresql":  # explicit ids: move the sequences past them
            for table in ("insurers", "persons", "qualifications", "drug_records"):
                c.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                ))  # fmt: skip


def test_upgrade_moves_person_keyed_data_onto_member_records_and_back(
    db_url: str, engine_at_0005: Engine
) -> None:
    engine = engine_at_0005
    _seed_old_schema(engine)

    upgrade(db_url, "0006_member_records")

    t = _tables(engine)
    with engine.connect() as c:
        q = t["qualifications"]
        members = {row.id: row for row in c.execute(select(q))}
        links = {
            row.qualification_id: row
            for row in c.execute(select(t["member_links"]).order_by(t["member_links"].c.id))
        }
        drug = t["drug_records"].c
        drugs = {
            row.id: row.qualification_id
            for row in c.execute(select(drug.id, drug.qualification_id))
        }
    assert members[1].name == "山田\u3000太郎1"
    assert members[1].name_kana == "ヤマダ\u3000タロウ"
    assert members[1].birth_date == date(1980, 5, 1)
    assert (members[1].symbol_key, members[1].number_key) == ("123", "451")
    assert (members[1].symbol, members[1].number) == ("12-3", "45-1")  # printed kept
    assert {k: (v.person_id, v.status, v.reason_code) for k, v in links.items()} == {
        1: (1, "linked", None),
        2: (1, "linked", None),
        3: (2, "held", "five_item_failed"),
        4: (3, "held", "five_item_pending"),
        5: (4, "undone", "no_my_number"),
    }
    assert all(row.ended_at is None and row.method == "migrated" for row in links.values())
    # each record under the qualification in force on its date; before any: the earliest
    assert drugs == {1: 1, 2: 2, 3: 3, 4: 1}

    downgrade(db_url, "0005_batch_inquiries")

    t = _tables(engine)
    with engine.connect() as c:
        q = t["qualifications"]
        rows = {r.id: r for r in c.execute(select(q))}
        drug = t["drug_records"].c
        drugs = {row.id: row.person_id for row in c.execute(select(drug.id, drug.person_id))}
        persons = c.execute(text("SELECT count(*) FROM persons")).scalar_one()
    assert {k: (r.person_id, r.five_item_status) for k, r in rows.items()} == {
        1: (1, "matched"), 2: (1, "matched"), 3: (2, "failed"), 4: (3, "pending"),
        5: (4, "not_checked"),
    }  # fmt: skip
    assert (rows[1].symbol_key, rows[1].number_key) == ("12-3", "45-1")
    assert drugs == {1: 1, 2: 1, 3: 2, 4: 1}
    assert persons == 4
    assert "member_links" not in t


def test_downgrade_gives_unlinked_members_a_person_of_their_own(
    db_url: str, engine_at_0005: Engine
) -> None:
    engine = engine_at_0005
    _seed_old_schema(engine)
    upgrade(db_url, "0006_member_records")
    t = _tables(engine)
    with engine.begin() as c:
        row = _qualification(9, 0, "x")
        for column in ("person_id", "five_item_status"):
            row.pop(column)
        row.update(
            name="佐藤\u3000花子",
            name_kana="サトウ\u3000ハナコ",
            birth_date=date(1990, 1, 2),
            sex="2",
            address=None,
            postal_code=None,
            symbol_key="123",
            number_key="459",
        )
        c.execute(t["qualifications"].insert(), [row])  # fmt: skip

    downgrade(db_url, "0005_batch_inquiries")

    with engine.connect() as c:
        found = c.execute(
            text(
                "SELECT p.family_name, p.given_name, p.birth_date, p.sex, p.my_number_hash, "
                "q.five_item_status FROM qualifications q JOIN persons p ON p.id = q.person_id "
                "WHERE q.id = 9"
            )
        ).one()
    assert tuple(found)[:2] == ("佐藤", "花子")
    assert found.sex == "2"
    assert found.my_number_hash is None
    assert found.five_item_status == "not_checked"


def test_upgrade_refuses_records_that_no_member_can_own(
    db_url: str, engine_at_0005: Engine
) -> None:
    engine = engine_at_0005
    _seed_old_schema(engine)
    t = _tables(engine)
    with engine.begin() as c:
        c.execute(t["persons"].insert(), [_person(5)])
        c.execute(t["drug_records"].insert(), [_drug(9, 5, date(2025, 1, 1))])
    with pytest.raises(RuntimeError, match="drug_records: 1 rows"):
        upgrade(db_url, "0006_member_records")
    with engine.connect() as c:
        version = c.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        assert c.execute(text("SELECT count(*) FROM drug_records")).scalar_one() == 5
    # PostgreSQL rolls the whole revision back; SQLite's DDL is not transactional in pysqlite,
    # so only the version is checked there: the revision is not recorded as applied.
    assert version == "0005_batch_inquiries"
