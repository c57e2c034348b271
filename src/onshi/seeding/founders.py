"""GENERATED 開設者 (founder) of each hospital, calibrated to the published applications of public
hospitals by founder on 2021-03-21 (国立病院機構, 労災病院, JCHO, KKR: 100 %; 都道府県立 95.1 %;
市町村立 93.2 %).

How many hospitals each founder has is not in the published uptake tables; the shares below are
the generator's assumption (close to the national hospital survey's counts: about 140 国立病院機構,
32 労災病院, 57 JCHO, 31 KKR, 190 都道府県立, 610 市町村立 and 290 other public hospitals of the
8,170). A founder with a published rate is drawn only among hospitals that applied by 2023-06-18;
within each founder, a running quota (not a coin) decides which applied by 2021-03-21, so the
generated rate is the published one to within one hospital.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from onshi import reference
from onshi.institutions.models import Founder

PUBLISHED_ON = reference.FOUNDER_UPTAKE_DATE
HOSPITALS = 8170
SHARES: dict[Founder, int] = {
    Founder.NATIONAL_HOSPITAL_ORGANIZATION: 140,
    Founder.LABOUR_HEALTH_WELFARE: 32,
    Founder.JCHO: 57,
    Founder.KKR: 31,
    Founder.PREFECTURAL: 190,
    Founder.MUNICIPAL: 610,
    Founder.OTHER_PUBLIC: 290,
}


class FounderAssigner:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.rates: dict[str, Decimal] = {
            row.founder: row.applied_rate for row in reference.founder_uptake()
        }
        self.seen: dict[Founder, int] = {}
        self.early: dict[Founder, int] = {}

    def founder(self, applied_by_reference: bool) -> Founder:
        """A founder for the next hospital; those with a published rate only for applicants."""
        u = self.rng.random() * HOSPITALS
        for founder, share in SHARES.items():
            if u < share:
                if founder.value in self.rates and not applied_by_reference:
                    return Founder.PRIVATE
                return founder
            u -= share
        return Founder.PRIVATE

    def applied_on(self, founder: Founder, drawn: date, opened: date, reference_date: date) -> date:
        """The application date for a hospital that applied by ``reference_date``: the drawn date,
        moved before or after 2021-03-21 as the founder's published rate requires."""
        rate = self.rates.get(founder.value)
        if rate is None:
            return drawn
        seen = self.seen.get(founder, 0) + 1
        self.seen[founder] = seen
        wanted = int((Decimal(seen) * rate / 100).to_integral_value(rounding="ROUND_HALF_UP"))
        if self.early.get(founder, 0) < wanted:
            self.early[founder] = self.early.get(founder, 0) + 1
            if drawn <= PUBLISHED_ON:
                return drawn
            return opened + timedelta(days=self.rng.randint(0, (PUBLISHED_ON - opened).days))
        if drawn > PUBLISHED_ON:
            return drawn
        later = PUBLISHED_ON + timedelta(days=1)
        return later + timedelta(days=self.rng.randint(0, (reference_date - later).days))
