"""GENERATED qualification rows: a person's insurance episodes as ``qualifications`` rows (with
loss by death or 生活保護, the unregistered new job, failed 5-item checks and ● in numbers), and
the 限度額適用認定 and 特定疾病 certificates on a current qualification.

Deterministic: every choice comes from the ``random.Random`` passed in, in a fixed order.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, timedelta

from onshi.clock import years_before
from onshi.identifiers.card import normalize_number, normalize_symbol
from onshi.identifiers.errors import IdentifierError
from onshi.seeding.ages import age_on
from onshi.seeding.anomalies import AnomalyRates, AnomalyRoll
from onshi.seeding.insurance_history import Episode, InsuranceHistory, Member
from onshi.seeding.rows import Counters, PersonBundle, stamp

#: 被保険者証区分 used for generated cards (synthetic codes: 01 社保, 02 国保, 03 後期).
CARD_CLASS = {
    "kyokai_kenpo": "01",
    "kenpo_kumiai": "01",
    "kyosai": "01",
    "shichoson_kokuho": "02",
    "kokuho_kumiai": "02",
    "koki_koreisha": "03",
}


class QualificationRows:
    """Adds one person's qualifications and certificates to their household's bundle."""

    def __init__(
        self,
        rng: random.Random,
        as_of: date,
        rates: AnomalyRates,
        counters: Counters,
        history: InsuranceHistory,
    ) -> None:
        self.rng = rng
        self.as_of = as_of
        self.rates = rates
        self.counters = counters
        self.history = history

    def add(  # noqa: PLR0917
        self,
        bundle: PersonBundle,
        member: Member,
        pref: str,
        head_episodes: list[Episode],
        welfare: bool,
        death: date | None,
        linked: bool,
        roll: AnomalyRoll,
    ) -> None:
        rng, as_of, rates, history = self.rng, self.as_of, self.rates, self.history
        episodes = (
            head_episodes
            if member.relationship == "1"
            else history.member_episodes(member, pref, head_episodes)
        )
        episodes = history.late_elderly(member, pref, episodes)
        cut: tuple[date, str] | None = None
        if death is not None:
            cut = (death, "01")
        if welfare:
            welfare_on = as_of - timedelta(days=rng.randint(30, 365 * 5))
            if cut is None or welfare_on < cut[0]:
                cut = (welfare_on, "02")
        if cut is not None:
            episodes = [
                ep
                if ep.end is not None and ep.end <= cut[0]
                else Episode(ep.insurer, ep.start, cut[0], cut[1], ep.symbol, ep.number)
                for ep in episodes
                if ep.start < cut[0]
            ]
        unregistered_index = -1
        age_now = age_on(member.birth, as_of)
        if (
            episodes
            and episodes[-1].end is None
            and member.relationship == "1"
            and 22 <= age_now < 65
            and episodes[-1].start < as_of - timedelta(days=60)
            and roll("unregistered_new_job", rates.unregistered_new_job)
        ):
            last = episodes[-1]
            change = as_of - timedelta(days=rng.randint(4, 12))
            insurer = history.employer_insurer(pref, 0)
            while insurer.id == last.insurer.id:
                insurer = history.employer_insurer(pref, 0)
            symbol, number = history.card_numbers(insurer)
            episodes[-1] = Episode(last.insurer, last.start, change, "03", last.symbol, last.number)
            episodes.append(Episode(insurer, change, None, None, symbol, number))
            unregistered_index = len(episodes) - 1
        failed = linked and episodes and roll("five_item_failed", rates.five_item_failed)
        bullet_number = episodes and roll("bullet_in_number", rates.bullet_in_number)
        for index, ep in enumerate(episodes):
            if index == unregistered_index:
                # The insurer has the notification but has not registered the new qualification:
                # the system holds only the lost one (the card shows 資格（無効）). The models keep
                # no row for an unregistered qualification (registered_at is required).
                continue
            current = index == len(episodes) - 1 and ep.end is None
            self._qualification_row(
                bundle, member, ep, current,
                unregistered=index == unregistered_index,
                failed=bool(failed) and current,
                bullet=bool(bullet_number) and index == len(episodes) - 1,
                linked=linked,
            )  # fmt: skip

    def _qualification_row(
        self,
        bundle: PersonBundle,
        member: Member,
        ep: Episode,
        current: bool,
        *,
        unregistered: bool,
        failed: bool,
        bullet: bool,
        linked: bool,
    ) -> None:
        rng, as_of = self.rng, self.as_of
        self.counters.qualification += 1
        kind = ep.insurer.kind
        individual = kind == "koki_koreisha"
        number = ep.number
        if bullet:
            position = rng.randrange(len(number))
            number = number[:position] + "●" + number[position + 1 :]
        relationship = "1" if kind in {"shichoson_kokuho", "kokuho_kumiai"} else member.relationship
        if kind not in {"shichoson_kokuho", "kokuho_kumiai", "koki_koreisha"}:
            relationship = member.relationship
        reference_day = min(ep.end or as_of, as_of) - timedelta(days=1)
        reference_day = max(reference_day, ep.start)
        age = age_on(member.birth, reference_day)
        ratio, preschool, elderly = self._copayment(age, individual)
        elderly_from = elderly_to = None
        if elderly is not None:
            turns_70 = years_before(member.birth, -70)
            elderly_from = max(ep.start, turns_70.replace(day=1) + timedelta(days=32)).replace(
                day=1
            )
            elderly_to = ep.end - timedelta(days=1) if ep.end else years_before(member.birth, -75)
            if elderly_to < elderly_from:
                elderly = elderly_from = elderly_to = None
        notified = ep.start + timedelta(days=rng.randint(0, 5))
        registered: datetime | None = stamp(notified + timedelta(days=rng.randint(0, 4)), 15)
        if unregistered:
            notified = as_of - timedelta(days=rng.randint(1, 4))
            registered = None
        status = "matched" if linked else "not_checked"
        if failed:
            status = "failed"
        elif unregistered or (
            registered is not None and registered.date() >= as_of - timedelta(days=3)
        ):
            status = "pending"
        bundle.add(
            "qualifications",
            {
                "id": self.counters.qualification,
                "person_id": member.person_id,
                "insurer_id": ep.insurer.id,
                "card_class": CARD_CLASS[kind],
                "symbol": ep.symbol,
                "number": number,
                "branch": None if individual else f"{member.branch:02d}",
                "symbol_key": _key(ep.symbol, normalize_symbol) or "",
                "number_key": _key(number, normalize_number),
                "relationship": relationship,
                "acquired_on": ep.start,
                "lost_on": ep.end,
                "loss_reason": ep.reason if ep.end else None,
                "issued_on": notified + timedelta(days=7),
                "valid_from": ep.start,
                "valid_to": None if ep.end is None else ep.end - timedelta(days=1),
                "copayment_ratio": ratio,
                "preschool": preschool,
                "elderly_certificate_ratio": elderly,
                "elderly_certificate_valid_from": elderly_from,
                "elderly_certificate_valid_to": elderly_to,
                "notified_on": notified,
                "registered_at": registered,
                "five_item_status": status,
                "created_at": registered or stamp(notified, 16),
                "_current": current,
            },
        )
        if current and not unregistered:
            self._certificates(bundle, ep, age)

    def _copayment(self, age: int, individual: bool) -> tuple[str, bool, str | None]:
        """一部負担金割合, 未就学, 高齢受給者証 ratio."""
        if individual:
            return self.rng.choices(("010", "020", "030"), weights=(72, 20, 8))[0], False, None
        if age < 6:
            return "020", True, None
        if 70 <= age < 75:
            elderly = "030" if self.rng.random() < 0.08 else "020"
            return elderly, False, elderly
        return "030", False, None

    def _certificates(self, bundle: PersonBundle, ep: Episode, age: int) -> None:
        rng, as_of = self.rng, self.as_of
        fiscal_start = date(as_of.year if as_of.month >= 8 else as_of.year - 1, 8, 1)
        if rng.random() < self.rates.limit_certificate:
            self.counters.limit += 1
            if age >= 70:
                category, class_code = "02", rng.choice(("B01", "B02", "B03", "B04", "B05", "B06"))
            else:
                category, class_code = "01", rng.choice(("A01", "A02", "A03", "A04", "A05"))
            bundle.add(
                "limit_certifications",
                {
                    "id": self.counters.limit,
                    "qualification_id": self.counters.qualification,
                    "category": category,
                    "class_code": class_code,
                    "valid_from": max(fiscal_start, ep.start),
                    "valid_to": date(fiscal_start.year + 1, 7, 31),
                },
            )
        if age >= 20 and rng.random() < self.rates.dialysis * (3 if age >= 60 else 1) / 1.8:
            self.counters.disease += 1
            bundle.add(
                "specific_disease_certificates",
                {
                    "id": self.counters.disease,
                    "qualification_id": self.counters.qualification,
                    "disease": "1",
                    "monthly_limit_yen": 20000 if age < 70 and rng.random() < 0.2 else 10000,
                    "valid_from": max(ep.start, as_of - timedelta(days=rng.randint(30, 3000))),
                    "valid_to": None,
                },
            )


def _key(printed: str | None, normalise: Callable[[str], str | None]) -> str:
    """The lookup key the qualification services compute; a printed value the counter could
    never type (● from the insurer's system) keeps its ● so it cannot be found by 記号番号."""
    if printed is None:
        return ""
    try:
        value = normalise(printed)
    except IdentifierError:
        return printed.replace("-", "").replace(" ", "")
    return str(value or "")
