"""Seed a database with the GENERATED nation (``onshi seed``).

Deterministic: the same (seed, size, counts, records years, as-of date) gives the same rows.
Each stream (insurers, institutions, people, records, activity) has its own ``random.Random``
seeded from the seed number and the stream name; the global ``random`` is never used. Faker's
ja_JP name tables are used as data, drawn with those generators.

A non-empty database is refused (``SeedRefusedError``): seeding is for a fresh database only, so
nothing generated ever mixes with real or edited data. Start again from an empty database.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from sqlalchemy import Connection, Engine, func, insert, select

from onshi.db.registry import load_all_models
from onshi.seeding import usage_history, usage_model
from onshi.seeding.activity import ActivityGenerator, window_start
from onshi.seeding.alert_records import demo_alert_drugs
from onshi.seeding.institution_plan import CellPlan, national_plan, scaled_plan
from onshi.seeding.institutions import InstitutionGenerator, InstitutionRef
from onshi.seeding.insurers import build_catalogue, insurer_rows
from onshi.seeding.people import PeopleGenerator
from onshi.seeding.records import RecordGenerator
from onshi.seeding.rows import Row
from onshi.seeding.writer import BatchWriter

Size = Literal["demo", "large"]
DEFAULT_SEED = 20230618
SIZES: dict[str, dict[str, float]] = {
    # people, institutions (0 = the full national plan), record density, activity rate
    "demo": {"people": 3000, "institutions": 2500, "density": 1.0, "activity": 1.0},
    "large": {"people": 1_000_000, "institutions": 0, "density": 0.05, "activity": 0.01},
}


class SeedRefusedError(RuntimeError):
    """The target database already holds data."""


@dataclass(frozen=True)
class SeedConfig:
    seed: int = DEFAULT_SEED
    size: Size = "demo"
    people: int | None = None
    institutions: int | None = None
    records_years: int = 5
    as_of: date = date(2026, 4, 1)
    batch_size: int = 5000

    @property
    def people_count(self) -> int:
        return self.people if self.people is not None else int(SIZES[self.size]["people"])

    @property
    def institution_count(self) -> int:
        if self.institutions is not None:
            return self.institutions
        return int(SIZES[self.size]["institutions"])


@dataclass
class SeedResult:
    counts: dict[str, int]
    seconds: float
    demo_person_id: int | None
    demo_institutions: dict[str, int] = field(default_factory=dict)


def stream(seed: int, name: str) -> random.Random:
    return random.Random(f"{seed}:{name}")


def plan_for(config: SeedConfig) -> tuple[CellPlan, ...]:
    count = config.institution_count
    return national_plan() if count == 0 else scaled_plan(count)


def is_empty(connection: Connection) -> bool:
    metadata = load_all_models()
    for name in ("persons", "institutions", "insurers"):
        if connection.execute(select(func.count()).select_from(metadata.tables[name])).scalar():
            return False
    return True


def seed_nation(
    engine: Engine,
    my_number_key: str,
    config: SeedConfig,
    progress: Callable[[str], None] | None = None,
) -> SeedResult:
    say = progress or (lambda _m: None)
    metadata = load_all_models()
    started = time.monotonic()
    with engine.connect() as connection:
        if not is_empty(connection):
            raise SeedRefusedError(
                "the database already holds data; seeding only fills an empty database "
                "(delete the SQLite file or create a new PostgreSQL database, then migrate)"
            )
        writer = BatchWriter(connection, metadata, config.batch_size, progress)
        commit_every = 200_000 if config.people_count > 50_000 else None
        catalogue = build_catalogue(
            stream(config.seed, "insurers"), 1 if config.size == "demo" else 6
        )
        writer.add("insurers", insurer_rows(catalogue))
        say(f"insurers: {len(catalogue.insurers)}")
        clinics: dict[str, list[InstitutionRef]] = {}
        pharmacies: dict[str, list[InstitutionRef]] = {}
        institutions = InstitutionGenerator(
            stream(config.seed, "institutions"), config.as_of, stream(config.seed, "founders")
        )
        for row, ref in institutions.rows(plan_for(config)):
            writer.add("institutions", (row,))
            target = pharmacies if ref.kind == "pharmacy" else clinics
            target.setdefault(ref.prefecture_code, []).append(ref)
        say(f"institutions: {institutions.next_id:,}")
        people = PeopleGenerator(
            stream(config.seed, "people"), catalogue, config.as_of, my_number_key
        )
        density = SIZES[config.size]["density"]
        records = RecordGenerator(
            stream(config.seed, "records"), config.as_of, config.records_years, density
        )
        activity = ActivityGenerator(
            stream(config.seed, "activity"), config.as_of, SIZES[config.size]["activity"]
        )
        demo_person: tuple[int, int] | None = None
        written_since_commit = 0
        for bundle in people.households(config.people_count):
            for table in (
                "persons",
                "sim_jlis_residents",
                "qualifications",
                "member_links",
                "limit_certifications",
                "specific_disease_certificates",
            ):
                writer.add(table, bundle.rows.get(table, ()))
            by_person: dict[object, list[Row]] = {}
            for q in bundle.rows.get("qualifications", ()):
                by_person.setdefault(q["_person_id"], []).append(q)
            for person in bundle.rows["persons"]:
                quals = by_person.get(person["id"], [])
                pref = str(person["prefecture_code"])
                death = person["_deceased_on"]
                until = death if isinstance(death, date) else config.as_of
                for table, rows in records.for_person(
                    person, quals, clinics.get(pref, []), pharmacies.get(pref, []), until
                ).items():
                    writer.add(table, rows)
                # checks found only what the shown rule lets them find
                current = [q for q in quals if q["_current"] and q["_shown"]]
                if current and death is None:
                    for table, rows in activity.for_person(
                        person, current[-1], clinics.get(pref, []), pharmacies.get(pref, [])
                    ).items():
                        writer.add(table, rows)
                if demo_person is None and _good_demo_patient(person, quals, config.as_of):
                    demo_person = (int(str(person["id"])), int(str(quals[-1]["id"])))
            written_since_commit += len(bundle.rows["persons"])
            if commit_every and written_since_commit >= commit_every:
                writer.flush()
                connection.commit()
                written_since_commit = 0
        demo_institutions: dict[str, int] = {}
        if demo_person is not None:
            demo_institutions = _demo_history(
                writer, activity, records, *demo_person, clinics, pharmacies, config.as_of
            )
        writer.finish()
        _write_rollups(connection, config, clinics, pharmacies)
        connection.commit()
        say(writer.report())
    counts = dict(writer.counts.items())
    return SeedResult(
        counts,
        time.monotonic() - started,
        demo_person[0] if demo_person else None,
        demo_institutions,
    )


def _write_rollups(
    connection: Connection,
    config: SeedConfig,
    clinics: dict[str, list[InstitutionRef]],
    pharmacies: dict[str, list[InstitutionRef]],
) -> None:
    """Monthly history before the window of real events, then every rollup from the data."""
    from onshi.uptake.models import CardRegistrationsMonthly, UsageMonthly
    from onshi.uptake.refresh import refresh_all

    refs = [ref for group in (clinics, pharmacies) for refs in group.values() for ref in refs]
    scale = config.people_count * SIZES[config.size]["activity"] / usage_model.POPULATION
    rows = list(
        usage_history.usage_rows(
            usage_history.OperatingIndex(refs),
            scale,
            usage_model.FULL_OPERATION_MONTH,
            window_start(config.as_of),
        )
    )
    if rows:
        connection.execute(insert(UsageMonthly), rows)
    registrations = list(
        usage_history.registration_rows(config.people_count / usage_model.POPULATION, config.as_of)
    )
    if registrations:
        connection.execute(insert(CardRegistrationsMonthly), registrations)
    refresh_all(connection, config.as_of)


def _good_demo_patient(person: Row, quals: list[Row], as_of: date) -> bool:
    """A person with a full history: a job change, a current qualification linked through the
    5-item check, in Tokyo, 45–69 (so health checks exist) and no anomaly."""
    birth = person["birth_date"]
    if not isinstance(birth, date):
        return False
    age = (as_of - birth).days // 365
    return (
        person["prefecture_code"] == "13"
        and 45 <= age <= 69
        and person["_deceased_on"] is None
        and not person["_anomalies"]
        and len(quals) >= 3
        and any(q["loss_reason"] == "03" for q in quals)
        and bool(quals[-1]["_current"])
        and bool(quals[-1]["_shown"])
    )


def _demo_history(  # noqa: PLR0917
    writer: BatchWriter,
    activity: ActivityGenerator,
    records: RecordGenerator,
    person_id: int,
    qualification_id: int,
    clinics: dict[str, list[InstitutionRef]],
    pharmacies: dict[str, list[InstitutionRef]],
    as_of: date,
) -> dict[str, int]:
    """The demo institutions (operating, in Tokyo) and a few past visits of the demo patient."""
    chosen: dict[str, InstitutionRef] = {}
    for ref in clinics.get("13", []) + pharmacies.get("13", []):
        if ref.operating_on is not None and ref.kind not in chosen:
            chosen[ref.kind] = ref
    for table, rows in activity.demo_visits(person_id, qualification_id, chosen).items():
        writer.add(table, rows)
    # drug records that raise the viewer's alerts (duplicate therapy, 併用禁忌)
    alert_rows = demo_alert_drugs(qualification_id, chosen, as_of, records.counters.drug + 1)
    records.counters.drug += len(alert_rows)
    writer.add("drug_records", alert_rows)
    return {kind: ref.id for kind, ref in chosen.items()}
