"""Generated people and institutions: determinism, valid identifiers, anomaly rates."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date

import pytest

from onshi.identifiers.institution import parse_institution_code
from onshi.identifiers.insurer import parse_insurer_number
from onshi.seeding.institution_plan import REFERENCE_DATE, scaled_plan, totals
from onshi.seeding.institutions import InstitutionGenerator
from onshi.seeding.insurers import build_catalogue
from onshi.seeding.nation import stream
from onshi.seeding.people import PeopleGenerator
from onshi.seeding.rows import Row

AS_OF = date(2026, 4, 1)
KEY = "k" * 40


def _people(seed: int, count: int) -> dict[str, list[Row]]:
    catalogue = build_catalogue(stream(seed, "insurers"), 1)
    generator = PeopleGenerator(stream(seed, "people"), catalogue, AS_OF, KEY)
    tables: dict[str, list[Row]] = {}
    for bundle in generator.households(count):
        for table, rows in bundle.rows.items():
            tables.setdefault(table, []).extend(rows)
    return tables


def test_same_seed_same_rows_and_different_seed_different_rows() -> None:
    assert _people(7, 400) == _people(7, 400)
    assert _people(7, 400)["persons"] != _people(8, 400)["persons"]


def test_institutions_are_deterministic_with_valid_unique_codes() -> None:
    plan = scaled_plan(800)
    first = [row for row, _ in InstitutionGenerator(random.Random(1), AS_OF).rows(plan)]
    second = [row for row, _ in InstitutionGenerator(random.Random(1), AS_OF).rows(plan)]
    assert first == second
    codes = [str(row["code"]) for row in first]
    assert len(set(codes)) == len(codes)
    for row in first:
        parsed = parse_institution_code(str(row["code"]))
        assert parsed.prefecture_code == row["prefecture_code"]


def test_institution_milestones_reproduce_the_plan_on_the_reference_date() -> None:
    plan = scaled_plan(1500)
    rows = [row for row, _ in InstitutionGenerator(random.Random(2), AS_OF).rows(plan)]
    seen: Counter[tuple[object, str]] = Counter()
    for row in rows:
        seen[(row["kind"], "facilities")] += 1
        for column, stage in (
            ("card_reader_applied_on", "applied"),
            ("ready_on", "ready"),
            ("operating_on", "operating"),
        ):
            day = row[column]
            if isinstance(day, date) and day <= REFERENCE_DATE:
                seen[(row["kind"], stage)] += 1
    expected = totals(plan)
    for (kind, stage), value in expected.items():
        if stage != "exempt":
            assert seen[(kind, stage)] == value, (kind, stage)


def test_insurer_numbers_pass_their_check_digit() -> None:
    catalogue = build_catalogue(random.Random(3), 2)
    numbers = [spec.number for spec in catalogue.insurers]
    assert len(set(numbers)) == len(numbers)
    assert "01130012" in numbers
    for number in numbers:
        parse_insurer_number(number)


@pytest.fixture(scope="module")
def sample() -> dict[str, list[Row]]:
    return _people(11, 30_000)


def test_anomaly_rates_within_tolerance(sample: dict[str, list[Row]]) -> None:
    persons = sample["persons"]
    registry = {r["id"]: r for r in sample["simulated_resident_registry"]}
    # persons carry the J-LIS items; each member record the insurer's (one per person here)
    member = {q["_person_id"]: q for q in sample["qualifications"]}
    linked = {link["person_id"] for link in sample["member_links"]}
    assert all(p["my_number_hash"] is not None for p in persons)
    assert all(p["family_name"] == registry[p["id"]]["family_name"] for p in persons)
    n = len(member)
    no_number = sum(person_id not in linked for person_id in member) / n
    assert 0.010 <= no_number <= 0.019
    kana = (
        sum(
            str(q["name_kana"]).partition("\u3000")[0] != registry[pid]["family_name_kana"]
            for pid, q in member.items()
        )
        / n
    )
    assert 0.002 <= kana <= 0.007
    address = sum(q["address"] != registry[pid]["address"] for pid, q in member.items()) / n
    assert 0.006 <= address <= 0.015
    assert any("●" in str(q["name"]) for q in sample["qualifications"])
    assert any("●" in str(q["number"]) for q in sample["qualifications"])
    statuses = Counter(link["status"] for link in sample["member_links"])
    assert statuses["held"] >= 1
    assert set(statuses) == {"linked", "held"}
    held = [link for link in sample["member_links"] if link["status"] == "held"]
    assert all(link["differences"] == [{"item": "birth_date"}] for link in held)
    # a card holder whose first job is not registered yet: a person without any member record
    assert any(p["id"] not in member for p in persons)


def test_qualification_rules(sample: dict[str, list[Row]]) -> None:
    births = {p["id"]: p["birth_date"] for p in sample["persons"]}
    reasons = Counter(q["loss_reason"] for q in sample["qualifications"])
    assert reasons["01"]
    assert reasons["02"]
    assert reasons["03"]
    for q in sample["qualifications"]:
        birth = births[q["_person_id"]]
        assert isinstance(birth, date)
        if q["card_class"] == "03":  # 後期高齢者: individual number, no 記号 / 枝番
            assert q["symbol"] is None
            assert q["branch"] is None
        else:
            assert q["branch"] is not None
        if q["preschool"]:
            assert q["copayment_ratio"] == "020"
        if q["elderly_certificate_ratio"] is not None:
            assert q["copayment_ratio"] in {"020", "030"}
        lost = q["lost_on"]
        assert lost is None or lost >= q["acquired_on"]
    dependants = [q for q in sample["qualifications"] if q["relationship"] == "2"]
    assert dependants
    assert all(q["branch"] != "01" for q in dependants)
