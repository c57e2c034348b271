"""The system's own figures: rollups rebuilt from institutions, events and card links (both
backends); the generated nation at national size agrees with the published table where it is
calibrated; the seeded demo nation's May 2023 card share is the published 6.0 %."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onshi import reference
from onshi.db.engine import make_engine
from onshi.db.migrate import upgrade
from onshi.institutions.models import Founder, InstitutionKind
from onshi.seeding.nation import SeedConfig, seed_nation
from onshi.uptake import official, system
from onshi.uptake.models import CardRegistrationsMonthly, UsageMonthly
from onshi.uptake.refresh import refresh_all
from onshi.verification.models import VerificationMethod
from tests.factories import (
    make_card_link,
    make_institution,
    make_qualification,
    make_verification_event,
)

KEY = "m" * 40
CREATED = datetime(2019, 4, 1, tzinfo=UTC)
DAY = date(2023, 6, 18)


def test_refresh_counts_milestones_per_week_and_use_per_month(db: Session) -> None:
    make_institution(
        db, kind=InstitutionKind.HOSPITAL, prefecture_code="01", created_at=CREATED,
        founder=Founder.PREFECTURAL, card_reader_applied_on=date(2023, 6, 12),
        ready_on=date(2023, 6, 18), operating_on=date(2023, 6, 19),
    )  # fmt: skip
    make_institution(
        db, kind=InstitutionKind.HOSPITAL, prefecture_code="01", created_at=CREATED,
        under_mandate=False, card_reader_applied_on=None, ready_on=None, operating_on=None,
    )  # fmt: skip
    clinic = make_institution(db, prefecture_code="13", created_at=CREATED)
    qualification = make_qualification(db)
    at = datetime(2026, 2, 27, 16, tzinfo=UTC)  # 2026-02-28 01:00 JST: February in JST
    for method in (VerificationMethod.CARD_PIN, VerificationMethod.SYMBOL_NUMBER,
                   VerificationMethod.SYMBOL_NUMBER, VerificationMethod.BATCH):  # fmt: skip
        make_verification_event(
            db, institution=clinic, qualification=qualification, method=method, occurred_at=at
        )
    make_verification_event(
        db,
        institution=clinic,
        qualification=qualification,
        method=VerificationMethod.CARD_FACE,
        occurred_at=datetime(2026, 2, 28, 15, tzinfo=UTC),
    )  # fmt: skip  (2026-03-01 00:00 JST: March)
    make_card_link(db, linked_at=datetime(2026, 1, 5, tzinfo=UTC))
    db.flush()
    report = refresh_all(db.connection(), date(2026, 3, 31))
    assert report.usage_months == 2  # February and March 2026

    week = system.week_for(db, DAY)
    assert week == DAY
    hospital = system.national_counts(system.cells(db, week))["hospital"]
    assert (hospital["facilities"], hospital["mandated"]) == (2, 1)
    assert (hospital["applied"], hospital["ready"], hospital["operating"]) == (1, 1, 0)
    assert hospital.rate("applied_rate_all") == Decimal("50.0")
    assert hospital.rate("applied_rate_mandatory") == Decimal("100.0")
    change = system.week_over_week(db, week)["hospital"]
    assert change[1] is not None
    assert change[0]["applied"] - change[1]["applied"] == 1  # 2023-06-12: this week
    assert system.week_for(db, date(2023, 6, 24)) == DAY  # a weekday → the Sunday before

    founders = {r["founder"]: r for r in system.founders(db, DAY).rows}
    assert founders["prefectural"]["applied_rate_all"] == Decimal("100.0")

    february = system.usage(db, date(2026, 2, 1), date(2026, 2, 28))
    total = next(
        r for r in february.rows if r["type"] == "total" and r["prefecture"] == "national_total"
    )
    assert (total["checks_by_card"], total["checks_by_insurance_card"]) == (1, 2)
    assert total["batch_inquiries"] == 1
    assert total["card_share"] == Decimal("33.3")
    tokyo = next(
        r for r in february.rows if r["prefecture"] == "東京" and r["type"] == "medical_clinic"
    )
    assert tokyo["checks_total"] == 3
    origins = set(db.execute(select(UsageMonthly.origin)).scalars())
    assert origins == {"events"}
    links = db.execute(
        select(
            CardRegistrationsMonthly.month, CardRegistrationsMonthly.system_registrations
        ).order_by(CardRegistrationsMonthly.month)
    ).all()
    assert [(m, n) for m, n in links] == [
        (date(2026, 1, 1), 1), (date(2026, 2, 1), 1), (date(2026, 3, 1), 1),
    ]  # fmt: skip

    before = db.scalar(select(func.count()).select_from(UsageMonthly))
    refresh_all(db.connection(), date(2026, 3, 31))  # idempotent
    assert db.scalar(select(func.count()).select_from(UsageMonthly)) == before


def test_the_national_nation_agrees_with_the_published_table(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        seed_nation(engine, KEY, SeedConfig(seed=7, people=1, institutions=0, records_years=0))
        with Session(engine) as db:
            got = {r["type"]: r for r in system.national(db, DAY).rows}
            published = {r["type"]: r for r in official.national(DAY).rows}
            for kind in ("hospital", "medical_clinic", "dental_clinic", "pharmacy", "total"):
                for stage in ("applied", "ready", "operating"):
                    # Every mandatory rate, and every published count, is reproduced.
                    column = f"{stage}_rate_mandatory"
                    assert got[kind][column] == published[kind][column], (kind, column)
                    if published[kind][stage] is not None:
                        assert got[kind][stage] == published[kind][stage], (kind, stage)
            for kind in ("hospital", "pharmacy"):  # facility counts agree: so do all rates
                for stage in ("applied", "ready", "operating"):
                    column = f"{stage}_rate_all"
                    assert got[kind][column] == published[kind][column], (kind, column)
            assert got["medical_clinic"]["operating_rate_all"] == Decimal("72.2")

            cells = {(r["type"], r["prefecture"]): r for r in system.prefecture(db, DAY).rows}
            for row in official.prefecture(DAY).rows:
                mine = cells[(row["type"], row["prefecture"])]
                for column in ("facilities", "applied", "ready", "operating"):
                    if row[column] is not None:
                        assert mine[column] == row[column], (row["prefecture"], column)

            ranked = [
                (r["type"], r["rank"], r["prefecture"], r["value"])
                for r in system.rankings(db, DAY).rows
                if r["measure"] == "operating_rate_all"
            ]
            expected = [
                (r.type, r.rank, r.prefecture, r.operating_rate)
                for r in reference.operating_rate_rankings()
            ]
            for kind in ("hospital", "medical_clinic"):  # every operating cell is published
                assert [x for x in ranked if x[0] == kind] == [x for x in expected if x[0] == kind]
            tops = {(t, p) for t, rank, p, _v in expected if rank <= 5}
            assert {(t, p) for t, rank, p, _v in ranked if rank <= 5} == tops

            founders = {r["founder"]: r for r in system.founders(db, date(2021, 3, 21)).rows}
            for item in reference.founder_uptake():
                rate = founders[item.founder]["applied_rate_all"]
                assert isinstance(rate, Decimal)
                # within one hospital of the published rate
                assert (
                    abs(rate - item.applied_rate)
                    <= Decimal(100) / founders[item.founder]["facilities"]
                )  # type: ignore[operator]
    finally:
        engine.dispose()


def test_seeded_may_2023_card_share_is_the_published_six_percent(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        seed_nation(engine, KEY, SeedConfig(seed=3, records_years=0))
        with Session(engine) as db:
            may = system.usage(db, date(2023, 5, 1), date(2023, 5, 31))
            total = next(
                r for r in may.rows if r["type"] == "total" and r["prefecture"] == "national_total"
            )
            share = total["card_share"]
            assert isinstance(share, Decimal)
            assert abs(share - Decimal("6.0")) <= 1
            # The months of real generated events follow the same mix.
            events = db.execute(
                select(
                    func.sum(UsageMonthly.checks_by_card),
                    func.sum(UsageMonthly.checks_by_insurance_card),
                ).where(UsageMonthly.origin == "events")
            ).one()
            card, insurance = (int(v) for v in events)
            assert card + insurance > 3000
            assert abs(Decimal(card * 100) / (card + insurance) - Decimal("6.0")) <= 2
            origins = set(db.execute(select(UsageMonthly.origin)).scalars())
            assert origins == {"events", "generated"}
    finally:
        engine.dispose()


@pytest.mark.parametrize("as_of", [date(2019, 1, 1)])
def test_no_system_figures_before_the_first_week(db: Session, as_of: date) -> None:
    refresh_all(db.connection(), date(2026, 3, 31))
    with pytest.raises(system.UptakeError):
        system.national(db, as_of)
