"""GENERATED people: households with their qualification histories, the SIMULATED resident
registry (J-LIS stand-in) and the documented data anomalies, as plain row dicts.

Deterministic: everything comes from the ``random.Random`` passed in (one per stream, see
``nation.py``); the reference date ``as_of`` is an argument, never the wall clock.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from onshi import reference
from onshi.identifiers.card import normalize_number, normalize_symbol
from onshi.identifiers.checkdigit import my_number_check_digit
from onshi.identifiers.errors import IdentifierError
from onshi.identifiers.my_number import my_number_hash
from onshi.seeding import names
from onshi.seeding.geography import (
    ADDRESS_NOTATIONS,
    Address,
    pick_municipality,
    random_address,
)
from onshi.seeding.insurers import InsurerCatalogue, InsurerSpec

Row = dict[str, object]

# Japan's population by 5-year age band (2022 estimates, %), 0–4 … 90+.
AGE_BANDS: tuple[float, ...] = (
    3.6, 4.0, 4.3, 4.5, 5.0, 5.1, 5.2, 5.9, 6.4, 7.7, 7.7, 6.7, 6.0, 6.2, 7.4, 5.9, 4.9, 3.4, 2.1,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class AnomalyRates:
    """Documented rates (DOMAIN.md, seed 000/004). Every kind also appears at least once in any
    nation of 1,000+ people so the demo shows it."""

    no_my_number: float = 1.75 / 125  # ≈ 1.4 % of members without a linked My Number
    bullet_in_number: float = 0.00002  # 0.002 % of 被保険者番号 contain ●
    bullet_in_name: float = 0.0003  # names with a character the insurer could not store
    kana_variant: float = 0.004  # insurer kana spelled differently from the registry
    address_variant: float = 0.01  # 1-2-2 vs 1丁目2番地2号, full-width digits, kanji numerals
    unregistered_new_job: float = 0.002  # old lost, new notified but not yet registered
    five_item_failed: float = 0.0006  # registration that failed the 5-item check
    welfare_household: float = 0.016  # 生活保護 (loss reason 02)
    limit_certificate: float = 0.03  # 限度額適用認定
    dialysis: float = 0.003  # 特定疾病 (人工透析)
    card_linked: float = 0.62  # 健康保険証利用登録 among people with a My Number


@dataclass
class Counters:
    person: int = 0
    registry: int = 0
    qualification: int = 0
    limit: int = 0
    disease: int = 0
    household: int = 0
    late_elderly: int = 0
    forced: set[str] = field(default_factory=set)


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


@dataclass
class PersonBundle:
    """Everything generated for one household, by table name."""

    rows: dict[str, list[Row]] = field(default_factory=dict)

    def add(self, table: str, row: Row) -> None:
        self.rows.setdefault(table, []).append(row)


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def stamp(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=UTC)


class PeopleGenerator:
    """Yields one ``PersonBundle`` per household until ``target`` people exist."""

    def __init__(
        self,
        rng: random.Random,
        catalogue: InsurerCatalogue,
        as_of: date,
        my_number_key: str,
        rates: AnomalyRates = AnomalyRates(),
    ) -> None:
        self.rng = rng
        self.catalogue = catalogue
        self.as_of = as_of
        self.key = my_number_key
        self.rates = rates
        self.counters = Counters()
        self.prefectures = reference.prefectures()
        self.pref_weights = [
            float(c.facilities or 0)
            for c in reference.uptake_by_prefecture()
            if c.type == "medical_clinic"
            and c.prefecture != reference.NATIONAL_TOTAL
            and c.facilities is not None
        ]  # clinics follow population closely enough for a synthetic nation
        self.my_number_offset = rng.randrange(10**11)

    # ----------------------------------------------------------------- households
    def households(self, target: int) -> Iterator[PersonBundle]:
        while self.counters.person < target:
            yield self.household(force=self.counters.person >= 1000 or target < 1000)

    def household(self, force: bool = False) -> PersonBundle:
        rng = self.rng
        pref = rng.choices(self.prefectures, weights=self.pref_weights)[0]
        municipality = pick_municipality(rng, pref.code)
        address = random_address(rng, pref.code, pref.name, municipality)
        head_age = self._adult_age()
        family = names.family_names().pick(rng)
        members = [self._member(head_age, "1", female=rng.random() < 0.3)]
        members[0].branch = 1
        if rng.random() < (0.55 if head_age < 75 else 0.4):
            spouse_age = max(20, head_age + rng.randint(-5, 5))
            members.append(self._member(spouse_age, "2", female=not members[0].female))
        if 25 <= head_age <= 60:
            for _ in range(rng.choices((0, 1, 2, 3), weights=(30, 30, 30, 10))[0]):
                child_age = rng.randint(0, min(21, head_age - 22))
                members.append(self._member(child_age, "2", female=rng.random() < 0.49))
        for branch, member in enumerate(members, start=1):
            member.branch = branch
        bundle = PersonBundle()
        self.counters.household += 1
        episodes = self._head_episodes(members[0], pref.code, municipality)
        welfare = rng.random() < self.rates.welfare_household
        for member in members:
            self._person(bundle, member, family, pref.code, address, episodes, welfare, force)
        return bundle

    def _adult_age(self) -> int:
        band = self.rng.choices(range(4, len(AGE_BANDS)), weights=AGE_BANDS[4:])[0]
        return min(104, band * 5 + self.rng.randint(0, 4 if band < 18 else 12))

    def _member(self, age: int, relationship: str, female: bool) -> Member:
        self.counters.person += 1
        birth = _years_before(self.as_of, age) - timedelta(days=self.rng.randint(1, 364))
        return Member(self.counters.person, birth, female, relationship)

    # ----------------------------------------------------------------- qualifications
    def _employer_insurer(self, pref: str, municipality: int) -> InsurerSpec:
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

    def _card_numbers(self, insurer: InsurerSpec) -> tuple[str | None, str]:
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

    def _head_episodes(self, head: Member, pref: str, municipality: int) -> list[Episode]:
        rng, as_of = self.rng, self.as_of
        start = max(_years_before(as_of, 10), _years_before(head.birth, -22))
        age_now = age_on(head.birth, as_of)
        episodes: list[Episode] = []
        t = start if age_now >= 22 else head.birth
        retired = age_now >= 65 and rng.random() < 0.7
        insurer = (
            self.catalogue.kokuho[(pref, municipality)]
            if retired
            else self._employer_insurer(pref, municipality)
        )
        while True:
            length = timedelta(days=int(rng.expovariate(1 / (365 * 7))) + 90)
            symbol, number = self._card_numbers(insurer)
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
            insurer = self._employer_insurer(pref, municipality)
        return episodes

    def _person(  # noqa: PLR0917
        self,
        bundle: PersonBundle,
        member: Member,
        family: tuple[str, str],
        pref: str,
        address: Address,
        episodes: list[Episode],
        welfare: bool,
        force: bool,
    ) -> None:
        rng, rates, as_of = self.rng, self.rates, self.as_of
        given = names.given_names(member.female).pick(rng)
        family_kanji, family_kana = family
        anomalies: set[str] = set()

        def roll(kind: str, rate: float) -> bool:
            hit = rng.random() < rate or (force and kind not in self.counters.forced)
            if hit:
                self.counters.forced.add(kind)
                anomalies.add(kind)
            return hit

        if roll("kana_variant", rates.kana_variant):
            family_kanji, family_kana = names.variant_family_names().pick(rng)
        if roll("bullet_in_name", rates.bullet_in_name):
            family_kanji, family_kana = names.unstorable_family_names().pick(rng)
        insurer_family = names.bulleted(family_kanji)
        insurer_kana = (
            names.kana_variant(family_kana) if "kana_variant" in anomalies else family_kana
        )
        registry_address = address.render()
        insurer_address = (
            address.render(rng.choice(ADDRESS_NOTATIONS))
            if roll("address_variant", rates.address_variant)
            else registry_address
        )
        my_number = self._my_number()
        number_hash = my_number_hash(self.key, my_number)
        linked = not roll("no_my_number", rates.no_my_number)
        age_now = age_on(member.birth, as_of)
        death = None
        if rng.random() < (0.06 if age_now >= 75 else 0.002):
            death = as_of - timedelta(days=rng.randint(10, 365 * 4))
            if death <= member.birth:
                death = None
        created = stamp(max(member.birth, _years_before(as_of, 10)))
        sex = "2" if member.female else "1"
        self.counters.registry += 1
        bundle.add(
            "simulated_resident_registry",
            {
                "id": self.counters.registry,
                "my_number_hash": number_hash,
                "family_name": family_kanji,
                "given_name": given[0],
                "family_name_kana": family_kana,
                "given_name_kana": given[1],
                "birth_date": member.birth,
                "sex": sex,
                "postal_code": address.postal_code,
                "address": registry_address,
                "prefecture_code": pref,
            },
        )
        bundle.add(
            "persons",
            {
                "id": member.person_id,
                "family_name": insurer_family,
                "given_name": given[0],
                "family_name_kana": insurer_kana,
                "given_name_kana": given[1],
                "birth_date": member.birth,
                "sex": sex,
                "postal_code": address.postal_code,
                "address": insurer_address,
                "prefecture_code": pref,
                "my_number_hash": number_hash if linked else None,
                "created_at": created,
                # not columns; used by later generators (records, activity), dropped on insert
                "_deceased_on": death,
                "_anomalies": anomalies,
            },
        )
        self._qualifications(
            bundle, member, pref, episodes, welfare, death, linked, anomalies, roll
        )

    def _my_number(self) -> str:
        """Unique without remembering the numbers issued: an affine bijection of the counter
        modulo 10**11 (the multiplier is coprime with 10)."""
        payload = (
            f"{(self.counters.registry * 7_919_000_003 + self.my_number_offset) % 10**11:011d}"
        )
        return f"{payload}{my_number_check_digit(payload)}"

    # ------------------------------------------------------------ per-person qualifications
    def _member_episodes(
        self, member: Member, pref: str, head_episodes: list[Episode]
    ) -> list[Episode]:
        rng = self.rng
        if (
            member.relationship == "2"
            and rng.random() < 0.35
            and age_on(member.birth, self.as_of) >= 22
        ):
            municipality = pick_municipality(rng, pref)
            member.relationship = "1"
            return self._head_episodes(member, pref, municipality)
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

    def _late_elderly(self, member: Member, pref: str, episodes: list[Episode]) -> list[Episode]:
        turns_75 = _years_before(member.birth, -75)
        if turns_75 > self.as_of:
            return episodes
        history_start = _years_before(self.as_of, 10)
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

    def _qualifications(  # noqa: PLR0917
        self,
        bundle: PersonBundle,
        member: Member,
        pref: str,
        head_episodes: list[Episode],
        welfare: bool,
        death: date | None,
        linked: bool,
        anomalies: set[str],
        roll: Callable[[str, float], bool],
    ) -> None:
        rng, as_of, rates = self.rng, self.as_of, self.rates
        episodes = (
            head_episodes
            if member.relationship == "1"
            else self._member_episodes(member, pref, head_episodes)
        )
        episodes = self._late_elderly(member, pref, episodes)
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
            insurer = self._employer_insurer(pref, 0)
            while insurer.id == last.insurer.id:
                insurer = self._employer_insurer(pref, 0)
            symbol, number = self._card_numbers(insurer)
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
            turns_70 = _years_before(member.birth, -70)
            elderly_from = max(ep.start, turns_70.replace(day=1) + timedelta(days=32)).replace(
                day=1
            )
            elderly_to = ep.end - timedelta(days=1) if ep.end else _years_before(member.birth, -75)
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
            self._certificates(bundle, member, ep, age)

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

    def _certificates(self, bundle: PersonBundle, member: Member, ep: Episode, age: int) -> None:
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


#: 被保険者証区分 used for generated cards (synthetic codes: 01 社保, 02 国保, 03 後期).
CARD_CLASS = {
    "kyokai_kenpo": "01",
    "kenpo_kumiai": "01",
    "kyosai": "01",
    "shichoson_kokuho": "02",
    "kokuho_kumiai": "02",
    "koki_koreisha": "03",
}


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
