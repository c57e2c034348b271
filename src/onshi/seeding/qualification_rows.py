"""GENERATED member records: a person's insurance episodes as ``qualifications`` rows carrying
the 5 items as the insurer registered them, each with its ``member_links`` row (with loss by
death or 生活保護, the unregistered new job, the first job not yet registered, members without a
My Number and so without a link, failed 5-item checks as held links, ● in numbers and names),
and the 限度額適用認定 and 特定疾病 certificates on a current qualification.

Deterministic: every choice comes from the ``random.Random`` passed in, in a fixed order.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from onshi.clock import years_before
from onshi.identifiers.card import number_key, symbol_key
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


@dataclass(frozen=True, slots=True)
class Registered:
    """The 5 items (and postal code) as the member's insurer registered them."""

    name: str
    name_kana: str
    sex: str
    address: str
    postal_code: str | None


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
        registered: Registered,
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
            len(episodes) == 1
            and episodes[0].end is None
            and member.relationship == "1"
            and 22 <= age_now < 30
            and roll("first_job_unregistered", rates.first_job_unregistered)
        ):
            # A first job notified but not yet registered: the person (with a My Number card)
            # has no member record at all, so a card check answers 4 資格情報なし.
            return
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
        written = [index for index in range(len(episodes)) if index != unregistered_index]
        newest = written[-1] if written else -1  # a failed check is the newest registration's
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
                failed=bool(failed) and index == newest,
                bullet=bool(bullet_number) and index == len(episodes) - 1,
                linked=linked,
                registered=registered,
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
        registered: Registered,
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
        registered_at: datetime | None = stamp(notified + timedelta(days=rng.randint(0, 4)), 15)
        if unregistered:
            notified = as_of - timedelta(days=rng.randint(1, 4))
            registered_at = None
        birth = member.birth
        if failed:
            # The classic failed check: the insurer typed the birth date one day off, so J-LIS
            # does not confirm the 5 items for the given 個人番号 and the link is held.
            birth += timedelta(days=1)
        bundle.add(
            "qualifications",
            {
                "id": self.counters.qualification,
                "insurer_id": ep.insurer.id,
                "card_class": CARD_CLASS[kind],
                "symbol": ep.symbol,
                "number": number,
                "branch": None if individual else f"{member.branch:02d}",
                "symbol_key": _key(ep.symbol, symbol_key),
                "number_key": _key(number, number_key),
                "relationship": relationship,
                "name": registered.name,
                "name_kana": registered.name_kana,
                "birth_date": birth,
                "sex": registered.sex,
                "address": registered.address,
                "postal_code": registered.postal_code,
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
                "registered_at": registered_at,
                "created_at": registered_at or stamp(notified, 16),
                "_current": current,
                "_person_id": member.person_id,
                "_shown": linked and not failed,
            },
        )
        if linked and registered_at is not None:
            self._link(bundle, member.person_id, registered_at, failed=failed)
        if current and not unregistered:
            self._certificates(bundle, ep, age)

    def _link(self, bundle: PersonBundle, person_id: int, at: datetime, *, failed: bool) -> None:
        """The member's link, made by the 5-item check with the given 個人番号 at registration:
        ``linked``, or ``held`` naming the item J-LIS did not confirm."""
        self.counters.link += 1
        bundle.add(
            "member_links",
            {
                "id": self.counters.link,
                "qualification_id": self.counters.qualification,
                "person_id": person_id,
                "status": "held" if failed else "linked",
                "method": "my_number",
                "variations": [],
                "differences": [{"item": "birth_date"}] if failed else [],
                "reason_code": "five_item_mismatch" if failed else None,
                "reason": "J-LIS did not confirm the birth date" if failed else None,
                "actor_kind": "insurer_system",
                "actor_id": None,
                "created_at": at,
                "ended_at": None,
            },
        )

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


def _key(printed: str | None, normalise: Callable[[str], str]) -> str:
    """The lookup key the qualification services compute; a printed value the counter could
    never type (● from the insurer's system) keeps its ● so it cannot be found by 記号番号."""
    if printed is None:
        return ""
    try:
        return normalise(printed)
    except IdentifierError:
        return printed.replace("-", "").replace(" ", "")
