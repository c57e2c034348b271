"""GENERATED people: households and their members, the SIMULATED resident registry (J-LIS
stand-in) and the person-level data anomalies, as plain row dicts. A ``persons`` row carries the
5 items as J-LIS knows them (and the keyed hash of the 個人番号); the member records carry them
as the insurer registered them (● for a character its system cannot store, kana and address
variants): see :class:`Registered`. Insurance histories come from
``insurance_history``, qualification and certificate rows from ``qualification_rows``.

Deterministic: everything comes from the ``random.Random`` passed in (one per stream, see
``nation.py``); the reference date ``as_of`` is an argument, never the wall clock.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta

from onshi import reference
from onshi.clock import years_before
from onshi.identifiers.checkdigit import my_number_check_digit
from onshi.identifiers.my_number import my_number_hash
from onshi.seeding import names
from onshi.seeding.ages import age_on
from onshi.seeding.anomalies import DOCUMENTED_RATES, AnomalyRates
from onshi.seeding.geography import (
    ADDRESS_NOTATIONS,
    Address,
    pick_municipality,
    random_address,
)
from onshi.seeding.insurance_history import Episode, InsuranceHistory, Member
from onshi.seeding.insurers import InsurerCatalogue
from onshi.seeding.qualification_rows import QualificationRows, Registered
from onshi.seeding.rows import Counters, PersonBundle, stamp

# Japan's population by 5-year age band (2022 estimates, %), 0–4 … 90+.
AGE_BANDS: tuple[float, ...] = (
    3.6, 4.0, 4.3, 4.5, 5.0, 5.1, 5.2, 5.9, 6.4, 7.7, 7.7, 6.7, 6.0, 6.2, 7.4, 5.9, 4.9, 3.4, 2.1,
)  # fmt: skip


class PeopleGenerator:
    """Yields one ``PersonBundle`` per household until ``target`` people exist."""

    def __init__(
        self,
        rng: random.Random,
        catalogue: InsurerCatalogue,
        as_of: date,
        my_number_key: str,
        rates: AnomalyRates = DOCUMENTED_RATES,
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
        self.history = InsuranceHistory(rng, catalogue, as_of, self.counters)
        self.qualification_rows = QualificationRows(rng, as_of, rates, self.counters, self.history)

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
        episodes = self.history.head_episodes(members[0], pref.code, municipality)
        welfare = rng.random() < self.rates.welfare_household
        for member in members:
            self._person(bundle, member, family, pref.code, address, episodes, welfare, force)
        return bundle

    def _adult_age(self) -> int:
        band = self.rng.choices(range(4, len(AGE_BANDS)), weights=AGE_BANDS[4:])[0]
        return min(104, band * 5 + self.rng.randint(0, 4 if band < 18 else 12))

    def _member(self, age: int, relationship: str, female: bool) -> Member:
        self.counters.person += 1
        birth = years_before(self.as_of, age) - timedelta(days=self.rng.randint(1, 364))
        return Member(self.counters.person, birth, female, relationship)

    # ----------------------------------------------------------------- people
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
        created = stamp(max(member.birth, years_before(as_of, 10)))
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
                "family_name": family_kanji,
                "given_name": given[0],
                "family_name_kana": family_kana,
                "given_name_kana": given[1],
                "birth_date": member.birth,
                "sex": sex,
                "postal_code": address.postal_code,
                "address": registry_address,
                "prefecture_code": pref,
                "my_number_hash": number_hash,
                "created_at": created,
                # not columns; used by later generators (records, activity), dropped on insert
                "_deceased_on": death,
                "_anomalies": anomalies,
            },
        )
        registered = Registered(
            name=f"{insurer_family}\u3000{given[0]}",
            name_kana=f"{insurer_kana}\u3000{given[1]}",
            sex=sex,
            address=insurer_address,
            postal_code=address.postal_code,
        )
        self.qualification_rows.add(
            bundle, member, pref, episodes, welfare, death, linked, roll, registered
        )

    def _my_number(self) -> str:
        """Unique without remembering the numbers issued: an affine bijection of the counter
        modulo 10**11 (the multiplier is coprime with 10)."""
        payload = (
            f"{(self.counters.registry * 7_919_000_003 + self.my_number_offset) % 10**11:011d}"
        )
        return f"{payload}{my_number_check_digit(payload)}"
