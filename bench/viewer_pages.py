"""Viewer pages (P7): server time of the consent-gated viewer with 5 years of records for the
patient, p50 / p95 per page, goal p95 ≤ 50 ms.

Run: ``.venv/bin/python -m bench.viewer_pages [--dir DIR] [--people N] [--requests N]``.

Set-up (not measured): a fresh SQLite database, ``onshi migrate`` and ``onshi seed --size large
--people N`` (default 100,000: the large nation's 229,981 institutions and record density with
fewer people; ``--people 1000000`` is the full large seed). The demo patient then gets 5 years of
records on their current member record, written through the ORM: every month a claim with 6
drugs and, for the last 100 days, e-prescriptions (≈ 400 drug rows), a 特定健診 every year (5)
and about 4 clinical items a month (240); a drug consent at the demo pharmacy (valid 24 h) and
viewer settings there offering every kind (clinical, surgery, health checks at the pharmacy,
5 years of drugs). ``onshi serve`` (one worker) starts on a free loopback port, the demo
pharmacist signs in, and each page is requested ``--requests`` times in sequence over one
keep-alive connection after 3 warm-ups. Each request is a full read: the gate, the query, the
access-log row and the audit event committed (the transparency log integrates in the
background). Times are measured by the client around each request (loopback): an upper bound
of the server time. Exit status 1 if any page's p95 exceeds 50 ms.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from bench.uptake_dashboard import Client, _free_port, _wait, server_env

GOAL_MS = 50.0
PHARMACIST = ("demo-pharmacist", "Onshi-Yakuzai-2026")
DRUGS = (
    ("2149039F1020", "アムロジピン錠5mg", 1.0, "錠"),
    ("3969007F1024", "メトホルミン塩酸塩錠250mg", 3.0, "錠"),
    ("2189016F1020", "アトルバスタチン錠10mg", 1.0, "錠"),
    ("2325003F1020", "ファモチジン錠20mg", 2.0, "錠"),
    ("1149019F1020", "ロキソプロフェンNa錠60mg", 3.0, "錠"),
    ("2171014F1020", "ニフェジピンCR錠20mg", 1.0, "錠"),
)


def _prepare_patient(url: str) -> int:
    """5 years of records for the demo patient, a consent and settings at the demo pharmacy;
    returns the patient's person id."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from onshi.accounts.models import StaffAccount
    from onshi.clock import JST
    from onshi.consent.models import Consent, ConsentKind, ConsentValue
    from onshi.db.engine import make_engine
    from onshi.qualification.models import MemberLink, Qualification
    from onshi.qualification.visibility import shown_link
    from onshi.records.models import (
        ClinicalCategory,
        ClinicalRecord,
        DrugRecord,
        DrugSource,
        HealthCheckRecord,
    )
    from onshi.seeding.accounts import demo_patient
    from onshi.viewer.models import ViewerSettings

    engine = make_engine(url)
    now = datetime.now(UTC)
    today = now.astimezone(JST).date()
    with engine.connect() as connection:
        patient = demo_patient(connection)
    if patient is None:
        raise SystemExit("the seed has no demo patient")
    person_id = patient[0]
    with Session(engine) as db, db.begin():
        member = db.scalars(
            select(Qualification)
            .join(MemberLink, MemberLink.qualification_id == Qualification.id)
            .where(MemberLink.person_id == person_id, shown_link())
            .order_by(Qualification.acquired_on.desc())
            .limit(1)
        ).one()
        pharmacy_id = db.scalars(
            select(StaffAccount.institution_id).where(StaffAccount.login_id == PHARMACIST[0])
        ).one()
        assert pharmacy_id is not None
        rows: list[object] = []
        for month in range(60):
            dispensed = today - timedelta(days=45 + 30 * month)
            for code, name, quantity, unit in DRUGS:
                rows.append(
                    DrugRecord(
                        qualification_id=member.id, dispensed_on=dispensed,
                        claim_month=(dispensed.replace(day=1) + timedelta(days=32)).replace(day=1),
                        institution_id=None, institution_name="ベンチ薬局",
                        prescribing_institution_name="ベンチ内科", drug_code=code,
                        drug_name=name, quantity=quantity, unit=unit, days=28,
                        source=DrugSource.CLAIM,
                    )
                )  # fmt: skip
            for item in range(4):
                rows.append(
                    ClinicalRecord(
                        qualification_id=member.id, institution_id=None,
                        institution_name="ベンチ病院", visit_on=dispensed - timedelta(days=item),
                        category=list(ClinicalCategory)[item % len(ClinicalCategory)],
                        item_code=f"16000{item:04d}", item_name=f"診療行為{item}",
                        inpatient=False,
                    )
                )  # fmt: skip
        for week in range(14):
            dispensed = today - timedelta(days=7 * week)
            for code, name, quantity, unit in DRUGS[:2]:
                rows.append(
                    DrugRecord(
                        qualification_id=member.id, dispensed_on=dispensed, claim_month=None,
                        institution_id=pharmacy_id, institution_name="ベンチ薬局",
                        prescribing_institution_name="ベンチ内科", drug_code=code,
                        drug_name=name, quantity=quantity, unit=unit, days=7,
                        source=DrugSource.E_PRESCRIPTION,
                    )
                )  # fmt: skip
        for year in range(5):
            rows.append(
                HealthCheckRecord(
                    qualification_id=member.id, insurer_id=member.insurer_id,
                    checked_on=date(today.year - year, 6, 1), institution_name="ベンチ健診",
                    height_cm=170.0, weight_kg=70.0 + year, bmi=24.2 + year / 5, waist_cm=84.0,
                    systolic=128 + year, diastolic=82, hba1c=5.5 + year / 10,
                    fasting_glucose=99, triglycerides=140, hdl=45, ldl=130, ast=25, alt=28,
                    ggt=40, urine_glucose="−", urine_protein="±", smoker=False,
                )
            )  # fmt: skip
        db.add_all(rows)
        db.add(
            Consent(
                person_id=person_id, institution_id=pharmacy_id, verification_event_id=None,
                kind=ConsentKind.COMPREHENSIVE, value=ConsentValue.GIVEN, registered_at=now,
                expires_at=now + timedelta(hours=24), home_visit=False,
            )
        )  # fmt: skip
        settings = db.get(ViewerSettings, pharmacy_id) or ViewerSettings(
            institution_id=pharmacy_id, updated_at=now
        )
        settings.offer_clinical = settings.offer_surgery = True
        settings.pharmacy_health_check = True
        settings.drug_history_years = 5
        db.add(settings)
    engine.dispose()
    return person_id


def main() -> int:  # noqa: PLR0915 - set-up, run and report in one readable place
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    directory = args.dir or Path(tempfile.mkdtemp(prefix="onshi-bench-viewer-"))
    directory.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{directory / 'onshi.sqlite3'}"
    port = _free_port()
    env = server_env(directory, url, port)
    onshi = str(Path(sys.executable).parent / "onshi")
    seeded = directory / ".seeded"
    if not seeded.exists():
        subprocess.run([onshi, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
        started = time.monotonic()
        subprocess.run(
            [onshi, "seed", "--size", "large", "--people", str(args.people)], env=env,
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        print(f"set-up: seeded the large nation with {args.people:,} people in "
              f"{time.monotonic() - started:,.1f} s")  # fmt: skip
        seeded.touch()
    marker = directory / ".patient"
    if not marker.exists():  # once per database: each run reads the same records
        marker.write_text(str(_prepare_patient(url)))
    person_id = int(marker.read_text())
    pages = (
        ("薬剤情報 (opens on 12 months, by month)", f"/clinic/viewer/{person_id}/drugs", None),
        ("薬剤情報 whole window (5 years)", f"/clinic/viewer/{person_id}/drugs?period=all", None),
        (
            "薬剤情報 filter (htmx fragment)",
            f"/clinic/viewer/{person_id}/drugs?drug=%E9%8C%A0&source=claim",
            {"HX-Request": "true"},
        ),
        ("お薬手帳 print view (5 years)", f"/clinic/viewer/{person_id}/drugs/print", None),
        ("特定健診 (5 years side by side)", f"/clinic/viewer/{person_id}/health-checks", None),
        ("診療情報", f"/clinic/viewer/{person_id}/clinical", None),
        ("patients with a consent", "/clinic/viewer", None),
    )
    server = subprocess.Popen(
        [onshi, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    failed = False
    try:
        _wait(port)
        client = Client(port)
        _status, form = client.request("GET", "/clinic/sign-in")
        match = re.search(rb'name="csrf_token" value="([^"]+)"', form)
        if match is None:
            raise SystemExit("no CSRF field on the sign-in form")
        body = urlencode(
            {
                "login_id": PHARMACIST[0],
                "password": PHARMACIST[1],
                "csrf_token": match.group(1).decode(),
            }
        )
        status, _ = client.request("POST", "/clinic/sign-in", body=body)
        if status not in (302, 303):
            raise SystemExit(f"sign-in failed: {status}")
        print(f"load average before: {os.getloadavg()}")
        print(f"{'page':40} {'bytes':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        for label, path, headers in pages:
            times = []
            size = 0
            for i in range(args.requests + 3):
                started = time.perf_counter()
                status, data = client.request("GET", path, headers=headers)
                elapsed = (time.perf_counter() - started) * 1000
                if status != 200 or not data:
                    raise SystemExit(f"{path}: status {status}")
                size = len(data)
                if i >= 3:
                    times.append(elapsed)
            times.sort()
            p95 = times[max(0, int(len(times) * 0.95) - 1)]
            failed |= p95 > GOAL_MS
            print(
                f"{label:40} {size:8,} {statistics.median(times):8.1f} {p95:8.1f} {times[-1]:8.1f}"
            )
        print(f"load average after: {os.getloadavg()}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"goal p95 ≤ {GOAL_MS:.0f} ms:", "FAILED" if failed else "met")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
