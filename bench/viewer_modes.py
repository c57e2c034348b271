"""Viewer alerts over 5-year drug histories and the 災害時 identity search: p50 / p95 in process.

Run: ``.venv/bin/python -m bench.viewer_modes [--people N] [--repeat N] [--dir DIR]``.

1. ``alerts_for`` (pure) on generated 5-year histories of 300, 1,000 and 3,000 drug records
   (about one record a week, a month's supply each, from 6 prescribers, with the shipped
   ingredients mixed in so both kinds of alert occur), ``--repeat`` calls each.
2. The 災害時 search by kana name + birth date + address on a seeded SQLite database (fresh
   file, ``onshi migrate``, the generated nation with ``--people`` people; not measured), with a
   declaration covering Tokyo: ``--repeat`` searches for Tokyo people with a current member
   record, each in its own transaction rolled back afterwards (so the log entries it writes do
   not pile up), timed around the service call (queries, folding, result computation, the audit
   event and access-log rows). Exit status 1 when it could not measure.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from onshi.clock import FrozenClock
from onshi.db.engine import make_engine
from onshi.db.migrate import upgrade
from onshi.viewer.alerts import alerts_for

TODAY = date(2026, 4, 1)
_CODES = (
    "2189017F1022", "2189011F1041", "6290004M1029", "1190023F1024", "6149003F2046",
    "2590016F2027", "2171011N1149", "1124007F2026", "3332001F1024",
    "2149039F1010", "3969007F1020", "2325003F1030", "1149019F1040", "4490026F1050",
)  # fmt: skip


@dataclass(frozen=True)
class _Row:
    id: int
    drug_code: str
    drug_name: str
    dispensed_on: date
    days: int | None
    institution_name: str
    prescribing_institution_name: str | None


def _history(count: int, rng: random.Random) -> list[_Row]:
    span = 5 * 365
    return [
        _Row(
            id=n,
            drug_code=rng.choice(_CODES),
            drug_name="薬",
            dispensed_on=TODAY - timedelta(days=rng.randint(0, span)),
            days=rng.choice((7, 14, 28, 30, None)),
            institution_name=f"薬局{rng.randint(1, 3)}",
            prescribing_institution_name=f"医院{rng.randint(1, 6)}",
        )
        for n in range(count)
    ]


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


def bench_alerts(repeat: int) -> None:
    rng = random.Random("alerts")
    print("alerts_for (pure), 5-year histories")
    print("| records | alerts | p50 ms | p95 ms |")
    for count in (300, 1000, 3000):
        history = _history(count, rng)
        times = []
        found = 0
        for _ in range(repeat):
            started = time.perf_counter()
            found = len(alerts_for(history, today=TODAY))
            times.append((time.perf_counter() - started) * 1000)
        p50, p95 = _percentiles(times)
        print(f"| {count} | {found} | {p50:.2f} | {p95:.2f} |")


def bench_search(people: int, repeat: int, directory: Path) -> int:
    from onshi.seeding.nation import SeedConfig, seed_nation
    from onshi.viewer import disaster_search
    from onshi.viewer.disaster_models import DisasterDeclaration, DisasterPrefecture

    url = f"sqlite:///{directory / 'viewer_modes.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    started = time.monotonic()
    seed_nation(engine, "b" * 40, SeedConfig(seed=7, people=people, institutions=2500))
    print(f"\nseeded {people:,} people in {time.monotonic() - started:.1f} s (not measured)")
    clock = FrozenClock(datetime(2026, 4, 1, 3, 0, tzinfo=UTC))
    with Session(engine) as db:
        admin = db.execute(text("SELECT id FROM staff_accounts LIMIT 1")).scalar()
        if admin is None:
            db.execute(
                text(
                    "INSERT INTO staff_accounts (login_id, display_name, password_hash, role,"
                    " is_institution_admin, emergency_permission, active, created_at,"
                    " is_insurer_admin, must_change_password) VALUES ('bench-admin', 'b', 'x',"
                    " 'administrator', false, false, true, :at, false, false)"
                ),
                {"at": clock.now()},
            )
            admin = db.execute(text("SELECT id FROM staff_accounts LIMIT 1")).scalar()
        declaration = DisasterDeclaration(
            title="bench", reason="", starts_at=clock.now() - timedelta(hours=1), ends_at=None,
            declared_by=admin, created_at=clock.now(), ended_at=None, ended_by=None,
        )  # fmt: skip
        db.add(declaration)
        db.flush()
        db.add(DisasterPrefecture(declaration_id=declaration.id, prefecture_code="13"))
        db.commit()
        institution = db.execute(
            text("SELECT id FROM institutions WHERE prefecture_code = '13' LIMIT 1")
        ).scalar()
        targets = db.execute(
            text(
                "SELECT p.family_name_kana || ' ' || p.given_name_kana, p.birth_date, p.address"
                " FROM persons p JOIN member_links l ON l.person_id = p.id"
                " AND l.ended_at IS NULL AND l.status = 'linked'"
                " WHERE p.prefecture_code = '13' ORDER BY p.id LIMIT :n"
            ),
            {"n": repeat},
        ).all()
    if not targets or institution is None or admin is None:
        print("no Tokyo person or institution to search for", file=sys.stderr)
        return 1
    times, hits = [], 0
    for kana, birth, address in targets:
        with Session(engine) as db:
            started = time.perf_counter()
            outcome = disaster_search.search(
                db, clock, institution_id=int(institution), prefecture_code="13",
                staff_account_id=int(admin), mode="identity",
                values={"kana_name": kana, "birth_date": str(birth)[:10], "address": address},
            )  # fmt: skip
            times.append((time.perf_counter() - started) * 1000)
            hits += len(outcome.hits)
            db.rollback()
    p50, p95 = _percentiles(times)
    print("災害時 identity search (kana + birth date + address), SQLite")
    print("| people | searches | persons found | p50 ms | p95 ms |")
    print(f"| {people:,} | {len(times)} | {hits} | {p50:.2f} | {p95:.2f} |")
    engine.dispose()
    return 0 if hits else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    with open("/proc/loadavg", encoding="ascii") as handle:
        print(f"load average at start: {handle.read().split()[0]}")
    bench_alerts(args.repeat)
    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
        return bench_search(args.people, args.repeat, args.dir)
    with tempfile.TemporaryDirectory() as directory:
        return bench_search(args.people, args.repeat, Path(directory))


if __name__ == "__main__":
    sys.exit(main())
