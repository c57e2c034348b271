"""GENERATED drug records that make the viewer's alerts show for the demo patient: one
duplicate therapy (ロスバスタチン from the demo hospital by claim and from the demo clinic
by 電子処方箋) and one contraindicated pair (スボレキサント by claim from the hospital,
クラリスロマイシン by 電子処方箋 from the clinic), all dispensed at the demo pharmacy within
the last 100 days.

The YJ codes are real product codes whose first 7 characters are in the ingredient table
(``onshi/reference/drug_ingredients.csv``), so the alerts find them (docs/viewer-alerts.md)."""

from __future__ import annotations

from datetime import date, timedelta

from onshi.seeding.institutions import InstitutionRef
from onshi.seeding.rows import Row

# (days before as-of, prescriber kind, YJ code, name, per day, days, source)
_PLAN: tuple[tuple[int, str, str, str, int, int, str], ...] = (
    (50, "hospital", "2189017F1022", "クレストール錠2.5mg", 1, 60, "claim"),
    (5, "medical_clinic", "2189017F1022", "クレストール錠2.5mg", 1, 30, "e_prescription"),
    (40, "hospital", "1190023F1024", "ベルソムラ錠15mg", 1, 60, "claim"),
    (
        3,
        "medical_clinic",
        "6149003F2046",
        "クラリスロマイシン錠200mg「CH」",
        2,
        7,
        "e_prescription",
    ),
)


def demo_alert_drugs(
    qualification_id: int, institutions: dict[str, InstitutionRef], as_of: date, first_id: int
) -> list[Row]:
    """The rows (ids from ``first_id``); none unless the demo hospital, clinic and pharmacy
    exist."""
    pharmacy = institutions.get("pharmacy")
    if pharmacy is None or not {"hospital", "medical_clinic"} <= set(institutions):
        return []
    rows: list[Row] = []
    for n, (ago, kind, code, name, per_day, days, source) in enumerate(_PLAN):
        dispensed = as_of - timedelta(days=ago)
        rows.append(
            {
                "id": first_id + n,
                "qualification_id": qualification_id,
                "dispensed_on": dispensed,
                # as the generated claims: the month after the dispensing month
                "claim_month": (
                    (dispensed.replace(day=1) + timedelta(days=32)).replace(day=1)
                    if source == "claim"
                    else None
                ),
                "institution_id": pharmacy.id,
                "institution_name": pharmacy.name,
                "prescribing_institution_name": institutions[kind].name,
                "drug_code": code,
                "drug_name": name,
                "quantity": float(per_day * days),
                "unit": "錠",
                "days": days,
                "source": source,
            }
        )
    return rows
