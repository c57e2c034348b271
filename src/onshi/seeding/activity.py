"""GENERATED verification events, consents and data views (so the dashboards, the reception
screen and the patient's access history have a recent past).

Real events cover only the recent window (the first day of the month two months before the
as-of month up to the day before as-of); older months are monthly rollups written by
``seeding.usage_history``. Both follow ``seeding.usage_model``: each person has Poisson-many
checks per month (the May 2023 national volume per person × the activity rate), at operating
institutions of their prefecture chosen by the published facility-type mix; the method is
一括照会, a card (face 84 %, PIN 14 %, 目視 2 %: the generator's assumption) or the insurance card
(記号番号) with the published per-type card share; a card check carries the reader's consents,
and views of health-check, drug and clinical data follow the published views per card check.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, time, timedelta

from onshi.seeding import usage_model
from onshi.seeding.institutions import InstitutionRef
from onshi.seeding.rows import Row

CARD_METHODS = (("card_face", 84), ("card_pin", 14), ("card_visual", 2))
CONSENT_KINDS = ("health_check", "drug", "clinical", "surgery")
VIEW_OF_CONSENT = {"health_check": "health_checkup", "drug": "drug", "clinical": "clinical"}
CONSENT_WITHOUT_VIEW = 0.3


def window_start(as_of: date) -> date:
    """The first day of real generated events: the month two months before ``as_of``'s."""
    month = usage_model.month_start(as_of)
    for _ in range(2):
        month = (month - timedelta(days=1)).replace(day=1)
    return month


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


class ActivityGenerator:
    def __init__(self, rng: random.Random, as_of: date, rate: float) -> None:
        self.rng = rng
        self.as_of = as_of
        self.rate = rate
        self.event_id = 0
        self.consent_id = 0
        self.access_id = 0
        self.start = window_start(as_of)
        self.kinds = list(usage_model.TYPES)
        self.periods: list[tuple[date, int, float, list[float]]] = []
        per_month = usage_model.checks_per_person_month() * rate
        for month in usage_model.months(self.start, as_of - timedelta(days=1)):
            last = min(usage_model.next_month(month), as_of) - timedelta(days=1)
            days = (last - month).days + 1
            in_month = (usage_model.next_month(month) - month).days
            weights = usage_model.type_weights(month)
            self.periods.append(
                (month, days, per_month * days / in_month, [weights[k] for k in self.kinds])
            )
        self._by_kind: dict[tuple[int, str], list[InstitutionRef]] = {}

    def _of_kind(self, places: list[InstitutionRef], kind: str) -> list[InstitutionRef]:
        key = (id(places), kind)
        if key not in self._by_kind:
            self._by_kind[key] = [p for p in places if p.kind == kind and p.operating_on]
        return self._by_kind[key]

    def for_person(
        self,
        person: Row,
        qualification: Row,
        clinics: list[InstitutionRef],
        pharmacies: list[InstitutionRef],
    ) -> dict[str, list[Row]]:
        rng = self.rng
        out: dict[str, list[Row]] = {}
        person_id, qualification_id = int(str(person["id"])), int(str(qualification["id"]))
        for month, days, lam, weights in self.periods:
            for _ in range(_poisson(rng, lam)):
                kind = rng.choices(self.kinds, weights=weights)[0]
                candidates = self._of_kind(pharmacies if kind == "pharmacy" else clinics, kind)
                if not candidates:
                    continue
                place = rng.choice(candidates)
                day = month + timedelta(days=rng.randrange(days))
                if place.operating_on is None or day < place.operating_on:
                    continue
                self._event(out, person_id, qualification_id, place, day, self._method(kind, month))
        return out

    def _method(self, kind: str, month: date) -> str:
        rng = self.rng
        mix = usage_model.mix()[kind]
        if rng.random() < mix.batch_per_check / (1 + mix.batch_per_check):
            return "batch"
        if rng.random() < usage_model.card_share(kind, month):
            return rng.choices([m for m, _ in CARD_METHODS], weights=[w for _, w in CARD_METHODS])[
                0
            ]
        return "symbol_number"

    def _event(  # noqa: PLR0917
        self, out: dict[str, list[Row]], person_id: int, qualification_id: int,
        place: InstitutionRef, day: date, method: str, views: bool = True,
    ) -> None:  # fmt: skip
        rng = self.rng
        at = datetime.combine(day, time(rng.randint(0, 8), rng.randint(0, 59)), tzinfo=UTC)
        self.event_id += 1
        out.setdefault("verification_events", []).append(
            {
                "id": self.event_id,
                "institution_id": place.id,
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
        per_card = usage_model.mix()[place.kind].views_per_card
        for kind in CONSENT_KINDS:
            view = (
                views and kind in VIEW_OF_CONSENT and rng.random() < per_card[VIEW_OF_CONSENT[kind]]
            )
            value = "1" if view or rng.random() < CONSENT_WITHOUT_VIEW else "0"
            self.consent_id += 1
            out.setdefault("consents", []).append(
                {
                    "id": self.consent_id,
                    "person_id": person_id,
                    "institution_id": place.id,
                    "verification_event_id": self.event_id,
                    "kind": kind,
                    "value": value,
                    "registered_at": at,
                    "expires_at": at + timedelta(hours=24),
                    "home_visit": False,
                    "archived_at": None,
                }
            )
            if view:
                self.access_id += 1
                out.setdefault("data_access_log", []).append(
                    {
                        "id": self.access_id,
                        "person_id": person_id,
                        "institution_id": place.id,
                        "staff_account_id": None,
                        "data_kind": kind,
                        "purpose": "normal",
                        "occurred_at": at + timedelta(minutes=rng.randint(1, 20)),
                        "verification_event_id": self.event_id,
                    }
                )

    def demo_visits(
        self, person_id: int, qualification_id: int, institutions: dict[str, InstitutionRef]
    ) -> dict[str, list[Row]]:
        """Past card checks with consent for the demo patient (hospital, clinic, pharmacy), and
        one on the as-of day at the hospital and the pharmacy: with ``run-demo`` (as of today)
        those consents are still valid (24 hours), so the viewer opens the patient."""
        out: dict[str, list[Row]] = {}
        visits = ((40, "hospital"), (25, "medical_clinic"), (24, "pharmacy"))
        for offset, kind in (*visits, (0, "hospital"), (0, "pharmacy")):
            if kind in institutions:
                self._event(
                    out, person_id, qualification_id, institutions[kind],
                    self.as_of - timedelta(days=offset), "card_face", views=False,
                )  # fmt: skip
        for row in out.get("consents", []):
            row["value"] = "1"
        return out
