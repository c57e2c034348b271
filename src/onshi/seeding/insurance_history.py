"""GENERATED insurance histories: which insurer covered a household member when (episodes of
資格取得/喪失), the card numbers each insurer issues, and the move to 後期高齢者医療 at 75.

Deterministic: every choice comes from the ``random.Random`` passed in, in a fixed order.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from onshi.clock import years_before
from onshi.seeding.ages import age_on
from onshi.seeding.geography import pick_municipality
from onshi.seeding.insurers import InsurerCatalogue, InsurerSpec
from onshi.seeding.rows import Counters


@dataclass(frozen=True, slots=True)
class Episode:
    insurer: InsurerSpec
    start: date
    end: date | None  # 資格喪失日 (the first day without it)
    reason: str | None
    symbol: str | None
    number: str


@dataclass
class Member:
    person_id: int
    birth: date
    female: bool
    relationship: str  # "1" 本人, "2" 家族
    branch: int = 1  # 枝番 inside the household
    death: date | None = None


class InsuranceHistory:
    """Episodes for heads of household and their members, up to ``as_of``."""

    def __init__(
        self, rng: random.Random, catalogue: InsurerCatalogue, as_of: date, counters: Counters
    ) -> None:
        self.rng = rng
        self.catalogue = catalogue
        self.as_of = as_of
        self.counters = counters

    def employer_insurer(self, pref: str, municipality: int) -> InsurerSpec:
        rng, cat = self.rng, self.catalogue
        roll = rng.random()
        if roll < 0.55:
            return cat.kyokai[pref]
        if roll < 0.80:
            return rng.choice(cat.societies[pref])
        if roll < 0.88:
            return rng.choice(cat.kyosai[pref])
        if roll < 0.89:
            return cat.kokuho_kumiai[pref]
        return cat.kokuho[(pref, municipality)]

    def card_numbers(self, insurer: InsurerSpec) -> tuple[str | None, str]:
        rng = self.rng
        self.counters.household += 1
        seq = self.counters.household
        if insurer.kind == "kyokai_kenpo":
            return f"{rng.randint(1000000, 9999999)}", str(seq)
        if insurer.kind == "kenpo_kumiai":
            return f"{rng.randint(1, 9999)}", str(seq)
        if insurer.kind == "kyosai":
            return f"{rng.randint(10, 99)}-{rng.randint(100, 999)}", str(seq)
        if insurer.kind == "kokuho_kumiai":
            return f"医{rng.randint(1, 99):02d}", str(seq)
        return f"{rng.randint(1, 99):02d}", str(seq)

    def head_episodes(self, head: Member, pref: str, municipality: int) -> list[Episode]:
        rng, as_of = self.rng, self.as_of
        start = max(years_before(as_of, 10), years_before(head.birth, -22))
        age_now = age_on(head.birth, as_of)
        episodes: list[Episode] = []
        t = start if age_now >= 22 else head.birth
        retired = age_now >= 65 and rng.random() < 0.7
        insurer = (
            self.catalogue.kokuho[(pref, municipality)]
            if retired
            else self.employer_insurer(pref, municipality)
        )
        while True:
            length = timedelta(days=int(rng.expovariate(1 / (365 * 7))) + 90)
            symbol, number = self.card_numbers(insurer)
            end = t + length
            if end >= as_of:
                episodes.append(Episode(insurer, t, None, None, symbol, number))
                break
            gap = rng.random() < 0.2
            new_start = end + timedelta(days=rng.randint(30, 180)) if gap else end
            reason = "99" if gap else "03"
            episodes.append(Episode(insurer, t, end, reason, symbol, number))
            if new_start >= as_of:
                break
            t = new_start
            insurer = self.employer_insurer(pref, municipality)
        return episodes

    def member_episodes(
        self, member: Member, pref: str, head_episodes: list[Episode]
    ) -> list[Episode]:
        """A family member's own history: a working adult may have their own insurer (and
        becomes 本人), otherwise the head's episodes from the member's birth."""
        rng = self.rng
        if (
            member.relationship == "2"
            and rng.random() < 0.35
            and age_on(member.birth, self.as_of) >= 22
        ):
            municipality = pick_municipality(rng, pref)
            member.relationship = "1"
            return self.head_episodes(member, pref, municipality)
        out = []
        for ep in head_episodes:
            if ep.end is not None and ep.end <= member.birth:
                continue
            out.append(
                Episode(
                    ep.insurer, max(ep.start, member.birth), ep.end, ep.reason, ep.symbol, ep.number
                )
            )
        return out

    def late_elderly(self, member: Member, pref: str, episodes: list[Episode]) -> list[Episode]:
        """At 75 every earlier qualification ends (reason 03) and 後期高齢者医療 begins."""
        turns_75 = years_before(member.birth, -75)
        if turns_75 > self.as_of:
            return episodes
        history_start = years_before(self.as_of, 10)
        kept: list[Episode] = []
        for ep in episodes:
            if ep.start >= turns_75:
                continue
            if ep.end is None or ep.end > turns_75:
                kept.append(Episode(ep.insurer, ep.start, turns_75, "03", ep.symbol, ep.number))
            else:
                kept.append(ep)
        self.counters.late_elderly += 1
        number = f"{pref}{self.counters.late_elderly:06d}"
        start = max(turns_75, history_start)
        kept.append(Episode(self.catalogue.koki[pref], start, None, None, None, number))
        return kept
