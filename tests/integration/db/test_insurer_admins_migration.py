"""0014: the insurer administrators listed in ``registration_insurer_admins`` become the
``staff_accounts.is_insurer_admin`` flag and the table goes; the downgrade lists the flagged
accounts again."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, inspect, select

from onshi.db.migrate import downgrade, upgrade

NOW = datetime(2026, 4, 1, tzinfo=UTC)
BEFORE = "0009_transparency_log"


def _tables(engine: Engine) -> Any:
    metadata = MetaData()
    metadata.reflect(engine)
    return metadata.tables


def _staff(n: int, insurer: int | None, role: str = "insurer_operator") -> dict[str, Any]:
    return {
        "id": n, "login_id": f"operator{n}", "display_name": f"職員{n}", "password_hash": "x",
        "role": role, "institution_id": None, "insurer_id": insurer,
        "is_institution_admin": False, "emergency_permission": False, "active": True,
        "created_at": NOW, "last_sign_in_at": None, "is_insurer_admin": False,
        "must_change_password": False, "password_changed_at": None,
    }  # fmt: skip


def _flags(engine: Engine) -> dict[int, bool]:
    staff = _tables(engine)["staff_accounts"]
    with engine.connect() as c:
        return {row.id: bool(row.is_insurer_admin) for row in c.execute(select(staff))}


def test_listed_administrators_become_the_flag_and_back(db_url: str) -> None:
    upgrade(db_url, BEFORE)
    engine = create_engine(db_url)
    try:
        t = _tables(engine)
        with engine.begin() as c:
            c.execute(t["insurers"].insert(), [
                {"id": 1, "number": "06130014", "name": "健保組合", "kind": "kenpo_kumiai",
                 "prefecture_code": "13", "houbetsu": "06", "created_at": NOW},
                {"id": 2, "number": "06130022", "name": "別の健保組合", "kind": "kenpo_kumiai",
                 "prefecture_code": "13", "houbetsu": "06", "created_at": NOW},
            ])  # fmt: skip
            c.execute(t["staff_accounts"].insert(), [_staff(1, 1), _staff(2, 1), _staff(3, 1)])
            # 1 is listed for its insurer; 3 for another insurer than its own (grants nothing)
            c.execute(t["registration_insurer_admins"].insert(), [
                {"staff_account_id": 1, "insurer_id": 1, "granted_at": NOW},
                {"staff_account_id": 3, "insurer_id": 2, "granted_at": NOW},
            ])  # fmt: skip
        upgrade(db_url)
        assert "registration_insurer_admins" not in inspect(engine).get_table_names()
        assert _flags(engine) == {1: True, 2: False, 3: False}

        downgrade(db_url, BEFORE)
        admins = _tables(engine)["registration_insurer_admins"]
        with engine.connect() as c:
            listed = c.execute(select(admins.c.staff_account_id, admins.c.insurer_id)).all()
        assert [tuple(row) for row in listed] == [(1, 1)]
        assert _flags(engine) == {1: True, 2: False, 3: False}
    finally:
        engine.dispose()
