"""Development-only demo staff accounts (through the accounts service, argon2-hashed) and the
demo patient lookup."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from onshi.clock import SystemClock
from onshi.db.registry import load_all_models
from onshi.seeding.nation import SeedResult

#: The demo insurer operator who administers the insurer (``is_insurer_admin``): its operator
#: accounts and its systems' registration API keys.
DEMO_INSURER_ADMIN = "demo-insurer"


def create_demo_accounts(
    engine: Engine, result: SeedResult, staff: tuple[tuple[str, str, str, str, str], ...]
) -> None:
    from onshi.accounts.models import StaffRole
    from onshi.accounts.passwords import PasswordService
    from onshi.accounts.services import create_staff_account
    from onshi.qualification.models import Insurer

    passwords = PasswordService.default()
    clock = SystemClock()
    with Session(engine) as db, db.begin():
        for login, password, role, attached, name in staff:
            institution_id = insurer_id = None
            if role == "insurer_operator":
                insurer_id = db.scalar(select(Insurer.id).where(Insurer.number == attached))
            elif role != "administrator":
                institution_id = result.demo_institutions.get(attached)
                if institution_id is None:
                    continue
            account = create_staff_account(
                db,
                clock,
                passwords,
                login_id=login,
                display_name=name,
                password=password,
                role=StaffRole(role),
                institution_id=institution_id,
                insurer_id=insurer_id,
                emergency_permission=role == "doctor",
                # The demo hospital's doctor and the demo pharmacy's pharmacist administer
                # their institution's card readers (/clinic/devices) and viewer settings.
                is_institution_admin=role in {"doctor", "pharmacist"},
            )
            # The demo insurer administrator registers the insurer systems' API keys
            # (/insurer/registrations/api-keys) and manages the insurer's operator accounts
            # (/insurer/staff); the second demo operator is a plain operator (four-eyes).
            account.is_insurer_admin = login == DEMO_INSURER_ADMIN and insurer_id is not None


#: The demo institutions' viewer settings (others keep the defaults): the hospital offers
#: 診療情報 and 手術情報 too and shows 5 years of drugs; the pharmacy keeps health checks off.
DEMO_VIEWER_SETTINGS: dict[str, dict[str, bool | int]] = {
    "hospital": {"offer_clinical": True, "offer_surgery": True, "drug_history_years": 5},
    "pharmacy": {"pharmacy_health_check": False},
}


def create_demo_viewer_settings(engine: Engine, result: SeedResult) -> None:
    from onshi.viewer.models import ViewerSettings

    now = SystemClock().now()
    with Session(engine) as db, db.begin():
        for kind, values in DEMO_VIEWER_SETTINGS.items():
            institution_id = result.demo_institutions.get(kind)
            if institution_id is None or db.get(ViewerSettings, institution_id) is not None:
                continue
            row = ViewerSettings(institution_id=institution_id, updated_at=now)
            for name, value in values.items():
                setattr(row, name, value)
            db.add(row)


def demo_patient(connection: Connection) -> tuple[int, str] | None:
    """The demo patient: the person of the latest seeded card check at the demo hospital."""
    tables = load_all_models().tables
    staff, events, persons = (
        tables["staff_accounts"],
        tables["verification_events"],
        tables["persons"],
    )
    hospital = connection.scalar(
        select(staff.c.institution_id).where(staff.c.login_id == "demo-reception")
    )
    if hospital is None:
        return None
    row = connection.execute(
        select(persons.c.id, persons.c.family_name, persons.c.given_name)
        .join(events, events.c.person_id == persons.c.id)
        .where(events.c.institution_id == hospital)
        .order_by(events.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return int(row.id), f"{row.family_name}\u3000{row.given_name}"
