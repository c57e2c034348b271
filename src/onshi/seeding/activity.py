"""GENERATED verification events and consents (so dashboards and the patient's access history
have a past): card checks at operating institutions of the person's prefecture within the last
90 days, with the consents given at the reader (24-hour expiry, expired by now)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from onshi.seeding.institutions import InstitutionRef
from onshi.seeding.rows import Row

METHODS = (
    ("card_face", 62),
    ("card_pin", 14),
    ("card_visual", 2),
    ("symbol_number", 20),
    ("batch", 2),
)
CONSENT_KINDS = ("health_check", "drug", "clinical", "surgery")


class ActivityGenerator:
    def __init__(self, rng: random.Random, as_of: date, rate: float) -> None:
        self.rng = rng
        self.as_of = as_of
        self.rate = rate
        self.event_id = 0
        self.consent_id = 0

    def for_person(
        self,
        person: Row,
        qualification: Row,
        clinics: list[InstitutionRef],
        pharmacies: list[InstitutionRef],
    ) -> dict[str, list[Row]]:
        rng = self.rng
        out: dict[str, list[Row]] = {}
        if rng.random() >= self.rate:
            return out
        places = [i for i in rng.sample(clinics, min(3, len(clinics))) if i.operating_on]
        places += [i for i in rng.sample(pharmacies, min(2, len(pharmacies))) if i.operating_on]
        for place in places[: rng.randint(1, 3)]:
            day = self.as_of - timedelta(days=rng.randint(1, 90))
            if place.operating_on is not None and day >= place.operating_on:
                self._event(
                    out, int(str(person["id"])), int(str(qualification["id"])), place.id, day
                )
        return out

    def _event(
        self, out: dict[str, list[Row]], person_id: int, qualification_id: int, institution_id: int,
        day: date,
    ) -> None:  # fmt: skip
        rng = self.rng
        method = rng.choices([m for m, _ in METHODS], weights=[w for _, w in METHODS])[0]
        at = datetime.combine(day, time(rng.randint(0, 8), rng.randint(0, 59)), tzinfo=UTC)
        self.event_id += 1
        out.setdefault("verification_events", []).append(
            {
                "id": self.event_id,
                "institution_id": institution_id,
                "device_id": None,
                "staff_account_id": None,
                "method": method,
                "person_id": person_id,
                "qualification_id": qualification_id,
                "result_code": 1,
                "error_code": None,
                "occurred_at": at,
            }
        )
        if not method.startswith("card"):
            return
        for kind in CONSENT_KINDS:
            value = "1" if rng.random() < 0.55 else "0"
            self.consent_id += 1
            out.setdefault("consents", []).append(
                {
                    "id": self.consent_id,
                    "person_id": person_id,
                    "institution_id": institution_id,
                    "verification_event_id": self.event_id,
                    "kind": kind,
                    "value": value,
                    "registered_at": at,
                    "expires_at": at + timedelta(hours=24),
                    "home_visit": False,
                    "archived_at": None,
                }
            )

    def demo_visits(
        self, person_id: int, qualification_id: int, institutions: dict[str, int]
    ) -> dict[str, list[Row]]:
        """Three past card checks with consent for the demo patient (hospital, clinic, pharmacy)."""
        out: dict[str, list[Row]] = {}
        for offset, kind in ((40, "hospital"), (25, "medical_clinic"), (24, "pharmacy")):
            if kind in institutions:
                self._event(
                    out, person_id, qualification_id, institutions[kind],
                    self.as_of - timedelta(days=offset),
                )  # fmt: skip
        for row in out.get("consents", []):
            row["value"] = "1"
        return out
