"""GENERATED medical records for one person: drugs (claims, YJ-like codes, real generic names),
特定健診 (40–74; 後期高齢者健診 for 75+), clinical items (visits, tests, procedures — never a
diagnosis) and medical-expense notices. ``density`` < 1 thins them for the large nation.

Each record belongs to the member record (qualification) the care fell under: the one in force
on its day, else the newest acquired before it; care on a day before any of the person's
qualifications is not generated (no claim without insurance)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from onshi.seeding.ages import age_on
from onshi.seeding.institutions import InstitutionRef
from onshi.seeding.rows import Row

# (YJ code stem, generic name, unit): common generics; the codes imitate the 12-character YJ form.
DRUGS: tuple[tuple[str, str, str], ...] = (
    ("2149039F1", "アムロジピン錠5mg「サワイ」", "錠"),
    ("2149044F1", "オルメサルタン錠20mg「DSEP」", "錠"),
    ("2189016F1", "アトルバスタチン錠10mg「トーワ」", "錠"),
    ("2189017F1", "ロスバスタチン錠2.5mg「DSEP」", "錠"),
    ("3969007F1", "メトホルミン塩酸塩錠250mgMT「トーワ」", "錠"),
    ("3969010F1", "シタグリプチン錠50mg「サワイ」", "錠"),
    ("2325003F1", "ファモチジン錠20mg「サワイ」", "錠"),
    ("2329023F1", "レバミピド錠100mg「トーワ」", "錠"),
    ("1149019F1", "ロキソプロフェンNa錠60mg「サワイ」", "錠"),
    ("1141007F1", "アセトアミノフェン錠200mg「タカタ」", "錠"),
    ("6132016C1", "セフジトレンピボキシル錠100mg「サワイ」", "錠"),
    ("6149003F1", "クラリスロマイシン錠200mg「トーワ」", "錠"),
    ("4490026F1", "フェキソフェナジン塩酸塩錠60mg「サワイ」", "錠"),
    ("4490023F1", "モンテルカスト錠10mg「KM」", "錠"),
    ("1124017F1", "ゾルピデム酒石酸塩錠5mg「サワイ」", "錠"),
    ("2171014F1", "ニフェジピンCR錠20mg「トーワ」", "錠"),
    ("3999019F1", "クロピドグレル錠75mg「SANIK」", "錠"),
    ("2649729S1", "ロキソプロフェンNaテープ100mg「ユートク」", "枚"),
    ("1319720Q1", "ヒアルロン酸Na点眼液0.1%「センジュ」", "mL"),
    ("2239001F1", "カルボシステイン錠500mg「サワイ」", "錠"),
)
CLINICAL_ITEMS: tuple[tuple[str, str, str], ...] = (
    ("test", "160008010", "末梢血液一般検査"),
    ("test", "160019410", "HbA1c"),
    ("test", "160022410", "AST"),
    ("test", "160000310", "尿一般"),
    ("imaging", "170000410", "単純撮影（胸部）"),
    ("imaging", "170011810", "CT撮影"),
    ("procedure", "140000610", "創傷処置"),
    ("procedure", "140046610", "消炎鎮痛等処置"),
    ("medication", "120001210", "処方箋料"),
    ("surgery", "150011310", "皮膚切開術"),
)
URINE = ("－", "－", "－", "－", "－", "±", "＋", "2＋")


@dataclass
class RecordCounters:
    drug: int = 0
    health_check: int = 0
    clinical: int = 0
    expense: int = 0


class RecordGenerator:
    def __init__(self, rng: random.Random, as_of: date, years: int, density: float) -> None:
        self.rng = rng
        self.as_of = as_of
        self.start = as_of - timedelta(days=365 * years)
        self.density = density
        self.counters = RecordCounters()

    def for_person(
        self,
        person: Row,
        members: list[Row],
        clinics: list[InstitutionRef],
        pharmacies: list[InstitutionRef],
        until: date,
    ) -> dict[str, list[Row]]:
        rng = self.rng
        birth = person["birth_date"]
        out: dict[str, list[Row]] = {}
        if not isinstance(birth, date) or not members or not clinics or not pharmacies:
            return out
        age = age_on(birth, self.as_of)
        visits_per_year = (
            3 if age < 15 else 2 if age < 40 else 5 if age < 70 else 10
        ) * self.density
        years = max(0.0, (until - self.start).days / 365)
        visits = int(visits_per_year * years + rng.random())
        for _ in range(visits):
            day = self.start + timedelta(days=rng.randint(0, max(0, (until - self.start).days - 1)))
            if day < birth:
                continue
            clinic = rng.choice(clinics)
            pharmacy = rng.choice(pharmacies)
            member = _member_on(members, day)
            if member is not None:
                self._visit(out, member, clinic, pharmacy, day)
        if age >= 40:
            for year in range(self.start.year, until.year + 1):
                day = date(year, rng.randint(5, 11), rng.randint(1, 28))
                if not self.start <= day < until or age_on(birth, day) < 40:
                    continue
                if rng.random() < (0.55 if age < 75 else 0.25) * min(1.0, self.density * 2):
                    member = _member_on(members, day)
                    if member is not None:
                        self._health_check(out, person, member, rng.choice(clinics), day)
        return out

    def _visit(
        self,
        out: dict[str, list[Row]],
        member: Row,
        clinic: InstitutionRef,
        pharmacy: InstitutionRef,
        day: date,
    ) -> None:
        rng = self.rng
        mid, insurer_id = member["id"], member["insurer_id"]
        for _ in range(rng.randint(1, 2)):
            category, code, item = rng.choice(CLINICAL_ITEMS)
            self.counters.clinical += 1
            out.setdefault("clinical_records", []).append(
                {
                    "id": self.counters.clinical, "qualification_id": mid,
                    "institution_id": clinic.id, "institution_name": clinic.name,
                    "visit_on": day, "category": category,
                    "item_code": code, "item_name": item, "inpatient": False,
                }
            )  # fmt: skip
        month = day.replace(day=1)
        claim_month = (month + timedelta(days=32)).replace(day=1)
        dispensed = day + timedelta(days=rng.randint(0, 1))
        days = rng.choice((3, 5, 7, 14, 28, 30))
        total = 0
        for _ in range(rng.randint(1, 3)):
            stem, name, unit = rng.choice(DRUGS)
            per_day = rng.choice((1, 2, 3))
            self.counters.drug += 1
            out.setdefault("drug_records", []).append(
                {
                    "id": self.counters.drug, "qualification_id": mid, "dispensed_on": dispensed,
                    "claim_month": claim_month, "institution_id": pharmacy.id,
                    "institution_name": pharmacy.name,
                    "prescribing_institution_name": clinic.name,
                    "drug_code": f"{stem}{rng.randint(10, 99)}"[:12].ljust(12, "0"),
                    "drug_name": name, "quantity": float(per_day * days), "unit": unit,
                    "days": days, "source": "claim",
                }
            )  # fmt: skip
            total += per_day * days * rng.randint(10, 60)
        visit_total = rng.randint(2000, 15000)
        clinic_care = "dental" if clinic.kind == "dental_clinic" else "outpatient"
        for inst, yen, care in (
            (clinic, visit_total, clinic_care),
            (pharmacy, total + 1500, "pharmacy"),
        ):
            self.counters.expense += 1
            available = (month + timedelta(days=62)).replace(day=10)
            out.setdefault("medical_expense_records", []).append(
                {
                    "id": self.counters.expense, "qualification_id": mid, "insurer_id": insurer_id,
                    "institution_id": inst.id, "institution_name": inst.name,
                    "service_month": month, "care_type": care, "days": 1, "total_yen": yen,
                    "patient_paid_yen": yen * 3 // 10, "available_on": available,
                }
            )  # fmt: skip

    def _health_check(
        self,
        out: dict[str, list[Row]],
        person: Row,
        member: Row,
        inst: InstitutionRef,
        day: date,
    ) -> None:
        rng = self.rng
        male = person["sex"] == "1"
        height = rng.gauss(170 if male else 157, 6)
        bmi = max(15.0, rng.gauss(24 if male else 22, 3.3))
        weight = bmi * (height / 100) ** 2
        waist = max(55.0, rng.gauss(85 if male else 80, 8) + (bmi - 23) * 2)
        systolic = int(rng.gauss(128, 16))
        hba1c = round(max(4.3, rng.gauss(5.7, 0.55)), 1)
        hdl, tg = int(rng.gauss(58, 14)), int(max(30, rng.lognormvariate(4.7, 0.5)))
        risk = sum((systolic >= 130, hba1c >= 5.6, tg >= 150 or hdl < 40))
        obese = waist >= (85 if male else 90) or bmi >= 25
        judgement = "1" if obese and risk >= 2 else "2" if obese and risk == 1 else "3"
        smoker = rng.random() < (0.25 if male else 0.08)
        guidance = "1" if obese and risk + smoker >= 3 else "2" if obese and risk >= 1 else "3"
        self.counters.health_check += 1
        out.setdefault("health_check_records", []).append(
            {
                "id": self.counters.health_check, "qualification_id": member["id"],
                "insurer_id": member["insurer_id"], "checked_on": day,
                "institution_name": inst.name,
                "height_cm": round(height, 1), "weight_kg": round(weight, 1),
                "bmi": round(bmi, 1), "waist_cm": round(waist, 1), "systolic": systolic,
                "diastolic": int(systolic * 0.62 + rng.gauss(0, 6)), "hba1c": hba1c,
                "fasting_glucose": int(70 + (hba1c - 4.3) * 25 + rng.gauss(0, 8)),
                "triglycerides": tg, "hdl": hdl, "ldl": int(rng.gauss(125, 30)),
                "ast": int(max(10, rng.gauss(23, 7))), "alt": int(max(6, rng.gauss(22, 11))),
                "ggt": int(max(8, rng.lognormvariate(3.3, 0.6))),
                "urine_glucose": "＋" if hba1c > 7.5 else "－", "urine_protein": rng.choice(URINE),
                "on_bp_medication": systolic > 150 and rng.random() < 0.6,
                "on_glucose_medication": hba1c > 6.8 and rng.random() < 0.6,
                "on_lipid_medication": rng.random() < 0.15, "smoker": smoker,
                "metabolic_judgement": judgement, "guidance_level": guidance,
            }
        )  # fmt: skip


def _member_on(members: list[Row], day: date) -> Row | None:
    """The member record in force on ``day``, else the newest acquired before it."""
    before = [m for m in members if isinstance(m["acquired_on"], date) and m["acquired_on"] <= day]
    if not before:
        return None
    covering = [m for m in before if not isinstance(m["lost_on"], date) or m["lost_on"] > day]
    return (covering or before)[-1]
