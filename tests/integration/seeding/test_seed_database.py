"""Seeding a migrated database on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from onshi.db.engine import make_engine
from onshi.db.migrate import upgrade
from onshi.db.registry import load_all_models
from onshi.seeding.nation import SeedConfig, SeedRefusedError, seed_nation

KEY = "m" * 40


def test_seed_fills_an_empty_database_and_refuses_a_second_time(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url)
    config = SeedConfig(seed=5, people=400, institutions=400, records_years=2)
    try:
        result = seed_nation(engine, KEY, config)
        tables = load_all_models().tables
        with engine.connect() as connection:
            for name, count in result.counts.items():
                stored = connection.scalar(select(func.count()).select_from(tables[name]))
                assert stored == count, name
            assert result.counts["persons"] >= 400
            assert result.counts["institutions"] >= 188
            orphans = connection.scalar(
                text(
                    "SELECT count(*) FROM member_links l LEFT JOIN persons p "
                    "ON p.id = l.person_id WHERE p.id IS NULL"
                )
            )
            assert orphans == 0
            # the documented anomalies in the new model: members without a link (no My
            # Number), held links (failed 5-item check), ● in the registered names, persons
            # without any member record (first job not yet registered)
            unlinked = connection.scalar(
                text(
                    "SELECT count(*) FROM qualifications q WHERE NOT EXISTS "
                    "(SELECT 1 FROM member_links l WHERE l.qualification_id = q.id)"
                )
            )
            held = connection.scalar(
                text("SELECT count(*) FROM member_links WHERE status = 'held'")
            )
            bullets = connection.scalar(
                text("SELECT count(*) FROM qualifications WHERE name LIKE '%●%'")
            )
            memberless = connection.scalar(
                text(
                    "SELECT count(*) FROM persons p WHERE NOT EXISTS "
                    "(SELECT 1 FROM member_links l WHERE l.person_id = p.id)"
                )
            )
            assert unlinked
            assert held
            assert bullets
            assert memberless
            # every record belongs to a member record
            for table in ("drug_records", "clinical_records", "medical_expense_records"):
                assert (
                    connection.scalar(
                        text(
                            f"SELECT count(*) FROM {table} r LEFT JOIN qualifications q "
                            "ON q.id = r.qualification_id WHERE q.id IS NULL"
                        )
                    )
                    == 0
                )
            kinds = set(
                connection.execute(text("SELECT DISTINCT kind FROM institutions")).scalars()
            )
            assert kinds == {"hospital", "medical_clinic", "dental_clinic", "pharmacy"}
        assert result.demo_person_id is None or result.demo_person_id > 0
        with pytest.raises(SeedRefusedError):
            seed_nation(engine, KEY, config)
        if engine.dialect.name == "postgresql":
            with engine.begin() as connection:  # sequences moved past the explicit ids
                new_id = connection.scalar(
                    text(
                        "INSERT INTO insurers (number, name, kind, prefecture_code, houbetsu, "
                        "created_at) VALUES ('06139995', 'x', 'kenpo_kumiai', '13', '06', now()) "
                        "RETURNING id"
                    )
                )
                assert new_id is not None
                assert new_id > result.counts["insurers"]
    finally:
        engine.dispose()


def test_the_demo_patient_has_drug_records_that_raise_both_alerts(db_url: str) -> None:
    from sqlalchemy.orm import Session

    from onshi.qualification.models import MemberLink
    from onshi.records.models import DrugRecord, DrugSource
    from onshi.viewer.alerts import AlertKind, alerts_for

    upgrade(db_url)
    engine = make_engine(db_url)
    config = SeedConfig(seed=1, people=600, institutions=400, records_years=1)
    try:
        result = seed_nation(engine, KEY, config)
        assert result.demo_person_id is not None
        assert {"hospital", "medical_clinic", "pharmacy"} <= set(result.demo_institutions)
        with Session(engine) as session:
            members = select(MemberLink.qualification_id).where(
                MemberLink.person_id == result.demo_person_id
            )
            records = session.scalars(
                select(DrugRecord).where(DrugRecord.qualification_id.in_(members))
            ).all()
            assert any(r.source is DrugSource.E_PRESCRIPTION for r in records)
            alerts = alerts_for(records, today=config.as_of)
            kinds = {alert.kind for alert in alerts}
            assert {AlertKind.DUPLICATE, AlertKind.CONTRAINDICATED} <= kinds
    finally:
        engine.dispose()
