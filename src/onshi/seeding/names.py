"""GENERATED names: kanji with full-width katakana readings, drawn from Faker's ja_JP name pairs
(weighted as Faker weights them) plus a few real surnames that exercise the anomalies the
5-item check must tolerate (ヂ/ヅ readings, characters insurer systems often cannot store).
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from functools import cache

import jaconv
from faker.providers.person.ja_JP import Provider as JaPerson

# Real surnames with ヂ/ヅ readings or 異体字 (髙, 﨑, 邉, 齋) that some insurer systems
# store as ●.
EXTRA_FAMILY: tuple[tuple[str, str, float], ...] = (
    ("都築", "ツヅキ", 0.6),
    ("千々岩", "チヂイワ", 0.2),
    ("鼓", "ツヅミ", 0.1),
    ("髙橋", "タカハシ", 0.8),
    ("山﨑", "ヤマザキ", 0.6),
    ("渡邉", "ワタナベ", 0.6),
    ("齋藤", "サイトウ", 0.6),
    ("服部", "ハットリ", 0.5),
)
EXTRA_GIVEN_FEMALE: tuple[tuple[str, str], ...] = (("千鶴", "チヅル"), ("しょう子", "ショウコ"))
EXTRA_GIVEN_MALE: tuple[tuple[str, str], ...] = (("伊織", "イオリ"), ("千尋", "チヒロ"))

#: Characters an insurer system could not store (外字) → the insurer record shows '●' instead.
UNSTORABLE = frozenset("髙﨑邉齋")

# Spelling variants between the insurer's kana and the registry's kana (both are accepted).
_KANA_VARIANTS = {
    "ヂ": "ジ",
    "ヅ": "ズ",
    "ャ": "ヤ",
    "ュ": "ユ",
    "ョ": "ヨ",
    "ッ": "ツ",
    "ァ": "ア",
    "ィ": "イ",
    "ゥ": "ウ",
    "ェ": "エ",
    "ォ": "オ",
    "ヴ": "ブ",
}


@dataclass(frozen=True, slots=True)
class NamePool:
    values: tuple[tuple[str, str], ...]
    cum_weights: tuple[float, ...]

    def pick(self, rng: random.Random) -> tuple[str, str]:
        return rng.choices(self.values, cum_weights=self.cum_weights)[0]


def _katakana(kana: str) -> str:
    """Full-width katakana whatever Faker gives (hiragana or half-width)."""
    return jaconv.hira2kata(jaconv.h2z(kana, kana=True, ascii=False, digit=False))


def _pool(pairs: list[tuple[str, str, float]]) -> NamePool:
    values = tuple((kanji, _katakana(kana)) for kanji, kana, _w in pairs)
    return NamePool(values, tuple(itertools.accumulate(w for _k, _n, w in pairs)))


@cache
def family_names() -> NamePool:
    base = [(k, kana, float(w)) for (k, kana, _r), w in JaPerson.last_name_pairs.items()]
    return _pool([*base, *EXTRA_FAMILY])


@cache
def given_names(female: bool) -> NamePool:
    source = JaPerson.first_name_female_pairs if female else JaPerson.first_name_male_pairs
    extra = EXTRA_GIVEN_FEMALE if female else EXTRA_GIVEN_MALE
    pairs = [(k, kana, 1.0) for k, kana, _r in source] + [(k, kana, 0.5) for k, kana in extra]
    return _pool(pairs)


@cache
def variant_family_names() -> NamePool:
    """Surnames whose kana has a variant spelling (for the kana-variant anomaly)."""
    pool = family_names()
    values = tuple(v for v in pool.values if kana_variant(v[1]) != v[1])
    return NamePool(values, tuple(float(i + 1) for i in range(len(values))))


@cache
def unstorable_family_names() -> NamePool:
    values = tuple(v for v in family_names().values if UNSTORABLE & set(v[0]))
    return NamePool(values, tuple(float(i + 1) for i in range(len(values))))


def kana_variant(kana: str) -> str:
    """The insurer-side spelling of ``kana`` (ヂ→ジ, ヅ→ズ, small → large kana)."""
    return "".join(_KANA_VARIANTS.get(ch, ch) for ch in kana)


def bulleted(name: str) -> str:
    """``name`` as an insurer system that cannot store 外字 keeps it: '●' for each such char."""
    return "".join("●" if ch in UNSTORABLE else ch for ch in name)
