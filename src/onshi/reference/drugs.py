"""Drug reference data for the viewer's alerts: ingredients keyed by the YJ code's first 7
characters, and a small list of contraindicated combinations (併用禁忌) with their sources.

The first 7 characters of a YJ code (and of the 薬価基準収載医薬品コード it follows) are the
薬効分類 (4 digits) and the ingredient with its route (3 characters): every strength, form and
brand of one ingredient taken one way shares them (シンバスタチン錠5mg and 10mg are both
``2189011``; イトラコナゾール capsules ``6290004M…`` and tablets ``6290004F…`` share
``6290004``). ``drug_ingredients.csv`` names the prefixes the alerts need; an ingredient taken
by several routes has one row per prefix.

``contraindicated_pairs.csv`` is a SMALL ILLUSTRATIVE SUBSET of the 併用禁忌 of each drug's
package insert (添付文書), not a complete list: each row names both ingredients, the reason, the
insert it comes from (as published by PMDA), the revision read and when it was checked. See
docs/viewer-alerts.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

from onshi.reference import _csv
from onshi.reference._csv import ReferenceDataError

YJ_PREFIX_LENGTH = 7


@dataclass(frozen=True, slots=True)
class Ingredient:
    yj_prefix: str
    name: str  # Japanese (JAN) name
    name_en: str
    example_product: str


@dataclass(frozen=True, slots=True)
class ContraindicatedPair:
    ingredient_a: str  # Japanese names, as in drug_ingredients.csv
    ingredient_b: str
    reason_ja: str
    reason_en: str
    source: str
    label_revision: str
    checked_on: date

    def involves(self, a: str, b: str) -> bool:
        """The pair is these two ingredients, in either order."""
        return {a, b} == {self.ingredient_a, self.ingredient_b}


@cache
def ingredients() -> dict[str, Ingredient]:
    """The ingredient of each known YJ prefix."""
    out: dict[str, Ingredient] = {}
    columns = ("yj_prefix", "ingredient", "ingredient_en", "example_product")
    for row in _csv.read_rows("drug_ingredients.csv", columns):
        prefix = _csv.text(row, "yj_prefix")
        if len(prefix) != YJ_PREFIX_LENGTH or not prefix.isascii() or not prefix.isdigit():
            raise ReferenceDataError(f"drug_ingredients.csv: bad YJ prefix {prefix!r}")
        if prefix in out:
            raise ReferenceDataError(f"drug_ingredients.csv: {prefix} twice")
        out[prefix] = Ingredient(
            yj_prefix=prefix,
            name=_csv.text(row, "ingredient"),
            name_en=_csv.text(row, "ingredient_en"),
            example_product=_csv.text(row, "example_product"),
        )
    return out


def ingredient_of(drug_code: str) -> Ingredient | None:
    """The ingredient a YJ code's first 7 characters name, if it is in the table."""
    return ingredients().get(drug_code[:YJ_PREFIX_LENGTH])


@cache
def contraindicated_pairs() -> tuple[ContraindicatedPair, ...]:
    """The shipped 併用禁忌 pairs; both ingredients of each must be in the ingredient table."""
    known = {ingredient.name for ingredient in ingredients().values()}
    columns = (
        "ingredient_a",
        "ingredient_b",
        "reason_ja",
        "reason_en",
        "source",
        "label_revision",
        "checked_on",
    )
    pairs: list[ContraindicatedPair] = []
    for row in _csv.read_rows("contraindicated_pairs.csv", columns):
        pair = ContraindicatedPair(
            ingredient_a=_csv.text(row, "ingredient_a"),
            ingredient_b=_csv.text(row, "ingredient_b"),
            reason_ja=_csv.text(row, "reason_ja"),
            reason_en=_csv.text(row, "reason_en"),
            source=_csv.text(row, "source"),
            label_revision=_csv.text(row, "label_revision"),
            checked_on=_csv.required_date(row, "checked_on"),
        )
        for name in (pair.ingredient_a, pair.ingredient_b):
            if name not in known:
                raise ReferenceDataError(f"contraindicated_pairs.csv: unknown ingredient {name}")
        if pair.ingredient_a == pair.ingredient_b:
            raise ReferenceDataError(f"contraindicated_pairs.csv: {pair.ingredient_a} with itself")
        pairs.append(pair)
    return tuple(pairs)


@cache
def _pairs_by_ingredients() -> dict[frozenset[str], ContraindicatedPair]:
    return {
        frozenset((pair.ingredient_a, pair.ingredient_b)): pair for pair in contraindicated_pairs()
    }


@cache
def contraindicated_ingredients() -> frozenset[str]:
    """Every ingredient named by at least one shipped pair."""
    return frozenset(name for pair in _pairs_by_ingredients() for name in pair)


def contraindication(a: str, b: str) -> ContraindicatedPair | None:
    """The shipped pair of ingredients ``a`` and ``b`` (either order), if any."""
    return _pairs_by_ingredients().get(frozenset((a, b)))
