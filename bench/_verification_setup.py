"""Set-up of the card verification API benchmark (not measured): a fresh database (`onshi
migrate` + `onshi seed`), a development PKI with card certificates issued to seeded persons and
linked to them (健康保険証利用登録 rows), and paired reader devices (Ed25519 keys).

Card links and devices are inserted directly (the rows `POST /api/v1/card-links` and pairing
would write); the PKI directory is kept between runs (RSA key generation is the slow part) and
its cards are re-linked to the same persons, as the seed is deterministic.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, insert, select

from onshi.clock import SystemClock, today_jst
from onshi.db.engine import make_engine
from onshi.devices.models import DeviceStatus, ReaderDevice, ReaderMode
from onshi.identity.models import CardCertificateLink, Person
from onshi.institutions.models import Institution
from onshi.pki.devpki import DevelopmentPKI
from onshi.qualification.models import LinkStatus, MemberLink, Qualification
from onshi.verification.models import VerificationEvent

PERSON_PREFIX = "bench-person-"


@dataclass(frozen=True)
class Card:
    person_id: int
    certificate_der: bytes
    key_pem: bytes


@dataclass(frozen=True)
class Device:
    device_id: int
    institution_id: int
    private_key_raw: bytes


@dataclass(frozen=True)
class Setup:
    database_url: str
    pki: DevelopmentPKI
    cards: list[Card]
    devices: list[Device]


def onshi_command() -> list[str]:
    script = Path(sys.executable).with_name("onshi")
    return [str(script)] if script.exists() else [sys.executable, "-m", "onshi.cli"]


def cli_env(workdir: Path, database_url: str) -> dict[str, str]:
    base = {key: value for key, value in os.environ.items() if not key.startswith("ONSHI_")}
    return {
        **base,
        "ONSHI_ENV": "development",
        "ONSHI_DATA_DIR": str(workdir),
        "ONSHI_DATABASE_URL": database_url,
    }


def fresh_database(workdir: Path, database: str, postgres_url: str, db_name: str) -> str:
    """An empty database: PostgreSQL ``db_name`` dropped and created, or a new SQLite file."""
    if database == "sqlite":
        path = workdir / "onshi-bench.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    import psycopg

    with psycopg.connect(f"{postgres_url.rstrip('/')}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db_name}"')
    return f"{postgres_url.rstrip('/')}/{db_name}"


def migrate_and_seed(workdir: Path, database_url: str, people: int) -> None:
    env = cli_env(workdir, database_url)
    for args in (["migrate"], ["seed", "--people", str(people)]):
        result = subprocess.run(
            [*onshi_command(), *args],
            env=env,
            cwd=workdir,
            capture_output=True,
            text=True,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        if result.returncode != 0:
            raise SystemExit(f"onshi {' '.join(args)} failed:\n{result.stdout}{result.stderr}")


def _eligible_persons(database_url: str, count: int) -> list[tuple[int, date]]:
    """Persons with exactly one member record, current and linked (result code 1)."""
    engine = make_engine(database_url)
    single = (
        select(MemberLink.person_id)
        .group_by(MemberLink.person_id)
        .having(func.count() == 1)
        .scalar_subquery()
    )
    with engine.connect() as conn:
        rows = conn.execute(
            select(Person.id, Person.birth_date)
            .join(MemberLink, MemberLink.person_id == Person.id)
            .join(Qualification, Qualification.id == MemberLink.qualification_id)
            .where(
                Qualification.lost_on.is_(None),
                MemberLink.ended_at.is_(None),
                MemberLink.status == LinkStatus.LINKED,
                Person.id.in_(single),
            )
            .order_by(Person.id)
            .limit(count)
        ).all()
    engine.dispose()
    return [(int(row[0]), row[1]) for row in rows]


def issue_cards(
    pki_dir: Path, persons: list[tuple[int, date]]
) -> tuple[DevelopmentPKI, list[Card]]:
    """One card per person (kept from earlier runs when the PKI directory already has it)."""
    clock = SystemClock()
    pki = DevelopmentPKI(pki_dir)
    pki.init(at=clock.now() - timedelta(days=1), crl_url="http://127.0.0.1/dev-pki/crl.pem")
    existing = {record.person: record for record in pki.cards() if not record.revoked}
    cards = []
    for n, (person_id, birth_date) in enumerate(persons, 1):
        reference = f"{PERSON_PREFIX}{person_id}"
        record = existing.get(reference)
        if record is None:
            record = pki.issue(
                person=reference,
                birth_date=birth_date,
                issued_on=today_jst(clock) - timedelta(days=30),
            )
        if n % 50 == 0:
            print(f"  cards: {n}/{len(persons)}", flush=True)
        cert = pki.card_certificate(record.card_id)
        key_pem = (pki.card_dir(record.card_id) / "key.pem").read_bytes()
        cards.append(Card(person_id, cert.public_bytes(serialization.Encoding.DER), key_pem))
    return pki, cards


def link_and_pair(
    database_url: str, pki: DevelopmentPKI, cards: list[Card], devices: int
) -> list[Device]:
    """card_certificate_links rows for ``cards``; ``devices`` active readers at distinct
    institutions (what pairing writes)."""
    from cryptography import x509

    from onshi.pki.trust import certificate_fingerprint

    now = datetime.now(UTC)
    engine = make_engine(database_url)
    link_rows = []
    for card in cards:
        cert = x509.load_der_x509_certificate(card.certificate_der)
        link_rows.append(
            {
                "person_id": card.person_id,
                "certificate_issuer": cert.issuer.rfc4514_string()[:512],
                "certificate_serial": f"{cert.serial_number:X}",
                "fingerprint_sha256": certificate_fingerprint(card.certificate_der),
                "not_before": cert.not_valid_before_utc,
                "not_after": cert.not_valid_after_utc,
                "linked_at": now,
                "unlinked_at": None,
            }
        )
    paired = []
    with engine.begin() as conn:
        conn.execute(insert(CardCertificateLink), link_rows)
        institution_ids = conn.scalars(
            select(Institution.id).order_by(Institution.id).limit(devices)
        ).all()
        for n, institution_id in enumerate(institution_ids):
            key = Ed25519PrivateKey.generate()
            public = key.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
            device_id = conn.execute(
                insert(ReaderDevice)
                .values(
                    institution_id=institution_id,
                    label=f"bench{n}",
                    public_key=public,
                    status=DeviceStatus.ACTIVE,
                    mode=ReaderMode.UNATTENDED,
                    paired_at=now,
                )
                .returning(ReaderDevice.id)
            ).scalar_one()
            raw = key.private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
            paired.append(Device(int(device_id), int(institution_id), raw))
    engine.dispose()
    if len(paired) < devices:
        raise SystemExit(f"only {len(paired)} institutions for {devices} devices")
    return paired


def count_events(database_url: str) -> int:
    engine = make_engine(database_url)
    with engine.connect() as conn:
        count = conn.scalar(select(func.count()).select_from(VerificationEvent)) or 0
    engine.dispose()
    return int(count)


def prepare(
    workdir: Path,
    *,
    database: str,
    postgres_url: str,
    db_name: str,
    people: int,
    cards: int,
    devices: int,
) -> Setup:
    workdir.mkdir(parents=True, exist_ok=True)
    url = fresh_database(workdir, database, postgres_url, db_name)
    print(f"database {url}: migrate + seed ({people:,} people)", flush=True)
    migrate_and_seed(workdir, url, people)
    persons = _eligible_persons(url, cards)
    if len(persons) < cards:
        print(f"  only {len(persons)} persons with a single current qualification", flush=True)
    print(f"dev PKI in {workdir / 'dev-pki'}: {len(persons)} card certificates", flush=True)
    pki, issued = issue_cards(workdir / "dev-pki", persons)
    paired = link_and_pair(url, pki, issued, devices)
    (workdir / "setup.json").write_text(
        json.dumps(
            {
                "database_url": url,
                "devices": [
                    [d.device_id, d.institution_id, d.private_key_raw.hex()] for d in paired
                ],
                "persons": [card.person_id for card in issued],
            }
        )
    )
    return Setup(url, pki, issued, paired)


def load_setup(workdir: Path, **_options: object) -> Setup:
    """The previous :func:`prepare` of ``workdir`` (its database keeps the earlier runs' rows)."""
    saved = json.loads((workdir / "setup.json").read_text())
    pki = DevelopmentPKI(workdir / "dev-pki")
    by_person = {record.person: record for record in pki.cards() if not record.revoked}
    cards = []
    for person_id in saved["persons"]:
        record = by_person[f"{PERSON_PREFIX}{person_id}"]
        der = pki.card_certificate(record.card_id).public_bytes(serialization.Encoding.DER)
        key_pem = (pki.card_dir(record.card_id) / "key.pem").read_bytes()
        cards.append(Card(person_id, der, key_pem))
    devices = [Device(d, i, bytes.fromhex(k)) for d, i, k in saved["devices"]]
    return Setup(saved["database_url"], pki, cards, devices)
