"""``onshi seed`` and the preparation half of ``onshi run-demo`` (``make run``); serving is
``onshi.cli``'s."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import TYPE_CHECKING

from onshi.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from onshi.seeding.nation import SeedConfig

#: Development-only demo sign-ins (printed by run-demo; never created outside development/test).
DEMO_STAFF: tuple[tuple[str, str, str, str, str], ...] = (
    # login id, password, role, attached to, display name
    ("demo-reception", "Onshi-Uketsuke-2026", "reception", "hospital", "受付 花子"),
    ("demo-doctor", "Onshi-Ishi-2026!", "doctor", "hospital", "医師 太郎"),
    ("demo-pharmacist", "Onshi-Yakuzai-2026", "pharmacist", "pharmacy", "薬剤師 次郎"),
    ("demo-dentist", "Onshi-Shika-2026!", "dentist", "dental_clinic", "歯科医師 三郎"),
    ("demo-insurer", "Onshi-Hokensha-2026", "insurer_operator", "01130012", "協会けんぽ 担当"),
    # a second operator of the same insurer: approves the first one's link changes (four-eyes)
    ("demo-insurer2", "Onshi-Hokensha2-2026", "insurer_operator", "01130012", "協会けんぽ 承認"),
    ("demo-admin", "Onshi-Kanri-2026!", "administrator", "", "運用 管理者"),
)


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def configure_seed(parser: argparse.ArgumentParser) -> None:
    from onshi.seeding.nation import DEFAULT_SEED

    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed number")
    parser.add_argument("--size", choices=("demo", "large"), default="demo")
    parser.add_argument("--people", type=int, default=None, help="override the people count")
    parser.add_argument(
        "--institutions", type=int, default=None, help="institutions (0 = all 229k national)"
    )
    parser.add_argument("--records-years", type=int, default=5)
    parser.add_argument(
        "--as-of", type=_iso_date, default=None, help="reference date (default 2026-04-01)"
    )


def _config(args: argparse.Namespace) -> SeedConfig:
    from onshi.seeding.nation import SeedConfig as Config

    base = Config()
    return Config(
        seed=args.seed,
        size=args.size,
        people=args.people,
        institutions=args.institutions,
        records_years=args.records_years,
        as_of=args.as_of or base.as_of,
    )


def seed(args: argparse.Namespace, settings: Settings) -> int:
    config = _config(args)
    if config.people_count < 1 or config.records_years < 0:
        print("seed: --people must be ≥ 1 and --records-years ≥ 0", file=sys.stderr)
        return 2
    return _seed(settings, config)


def _seed(settings: Settings, config: SeedConfig) -> int:
    from onshi.db.engine import make_engine
    from onshi.seeding.accounts import create_demo_accounts, create_demo_viewer_settings
    from onshi.seeding.nation import SeedRefusedError, seed_nation

    engine = make_engine(settings.database_url)
    print(
        f"seeding {config.size} nation (seed {config.seed}, {config.people_count:,} people) "
        f"into {settings.database_url}"
    )
    try:
        result = seed_nation(engine, settings.my_number_key, config, print)
    except SeedRefusedError as exc:
        print(f"seed: refused: {exc}", file=sys.stderr)
        return 1
    demo_card: list[str] = []
    if settings.environment != "production":
        create_demo_accounts(engine, result, DEMO_STAFF)
        create_demo_viewer_settings(engine, result)
        demo_card = _demo_card(engine, settings)
    total = sum(result.counts.values())
    print(
        f"seeded {total:,} rows in {result.seconds:,.1f} s ({total / result.seconds:,.0f} rows/s)"
    )
    for table, count in result.counts.items():
        print(f"  {table:32} {count:>12,}")
    for line in demo_card:
        print(line)
    engine.dispose()
    return 0


def _demo_card(engine: Engine, settings: Settings) -> list[str]:
    from onshi.seeding.accounts import demo_patient
    from onshi.seeding.demo_card import issue_demo_card

    with engine.connect() as connection:
        patient = demo_patient(connection)
    if patient is None:
        return []
    return issue_demo_card(engine, settings, patient[0])


def demo_patient_instructions(settings: Settings, person_id: int | None) -> list[str]:
    """How the demo patient signs in to the portal: a fresh one-time enrolment link (30
    minutes) to create a passkey; afterwards /me/sign-in with that passkey."""
    if person_id is None:
        return []
    from onshi.accounts.cli import issue_enrolment_url
    from onshi.errors import NotFoundError

    try:
        url, expiry = issue_enrolment_url(settings, person_id)
    except NotFoundError:
        return [f"  patient: demo person {person_id} not found; no enrolment link issued"]
    origin = settings.public_origin  # the same origin as the staff links
    return [
        f"  patient enrolment (once, until {expiry}): {url}",
        f"  patient sign-in with the passkey afterwards: {origin}/me/sign-in",
        f"  new link: onshi patient-enrolment-code --person-id {person_id}",
    ]


def prepare_demo(settings: Settings) -> Settings | int:
    """Migrate, seed an empty database, make the dev PKI and print the sign-ins. Returns the
    settings to serve the demo with (trusting the dev CA), or an exit status on failure."""
    from sqlalchemy import select

    from onshi.clock import SystemClock, today_jst
    from onshi.db.engine import make_engine
    from onshi.db.migrate import upgrade
    from onshi.db.registry import load_all_models
    from onshi.seeding.accounts import demo_patient
    from onshi.seeding.nation import SeedConfig, is_empty

    if settings.environment == "production":
        print("run-demo: refusing to run with ONSHI_ENV=production", file=sys.stderr)
        return 2
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    with engine.connect() as connection:
        empty = is_empty(connection)
    if empty:
        # The demo's history ends today so reception and dashboards show recent activity;
        # `onshi seed` keeps its fixed as-of date for reproducible datasets.
        status = _seed(settings, SeedConfig(as_of=today_jst(SystemClock())))
        if status:
            return status
    else:
        print("database already seeded; keeping its data")
    _dev_pki(settings)
    metadata = load_all_models()
    with engine.connect() as connection:
        logins = set(
            connection.execute(select(metadata.tables["staff_accounts"].c.login_id)).scalars()
        )
        patient = demo_patient(connection)
    engine.dispose()
    origin = settings.public_origin
    print("\nDemo sign-ins (development only):")
    for login, password, role, _attached, name in DEMO_STAFF:
        if login in logins:
            sign_in = f"{origin}/{_SIGN_IN_AUDIENCE.get(role, 'clinic')}/sign-in"
            print(f"  {role:17} {sign_in}  login {login}  password {password}  ({name})")
    if "demo-doctor" in logins:
        print(f"  card readers: {origin}/clinic/devices  (demo-doctor is the institution admin)")
    if patient is not None:
        print(f"  demo patient: {patient[1]} (person id {patient[0]})")
    for line in demo_patient_instructions(settings, patient[0] if patient else None):
        print(line)
    print()
    return _trusting_dev_pki(settings)


_SIGN_IN_AUDIENCE = {"insurer_operator": "insurer", "administrator": "admin"}


def _trusting_dev_pki(settings: Settings) -> Settings:
    """The demo trusts the development CA unless trust anchors were configured explicitly.
    Only ``run-demo`` does this, and it refuses to run in production."""
    if settings.jpki_trust_anchors:
        return settings
    pki_dir = settings.data_dir / "dev-pki"
    print(f"trusting the development JPKI CA in {pki_dir} (demo only)")
    return settings.with_(
        jpki_trust_anchors=(pki_dir / "ca.pem",), jpki_crls=(pki_dir / "crl.pem",)
    )


def _dev_pki(settings: Settings) -> None:
    from onshi.clock import SystemClock
    from onshi.pki import cli as pki_cli

    pki_cli.run(argparse.Namespace(dir=None, pki_command="init"), settings, SystemClock())
