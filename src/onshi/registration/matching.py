"""The 5-item reconciliation (漢字氏名, カナ氏名, 生年月日, 性別, 住所) of a member with J-LIS.

Pure: the caller gives the insurer's 5 items (:class:`Applicant`) and the J-LIS residents to
compare (:class:`Resident`, keys precomputed once per resident), and gets a :class:`Verdict`:

* ``linked`` — all five items are the same (canonical forms, :mod:`.normalise`);
* ``linked_confirm`` — all five match, some only through tolerated variations, each listed
  (the insurer confirms them with the member);
* ``held`` — anything less, naming the items that differ. Three or four matching items never
  link; a 5-item match that is not unique never links.

With a 個人番号 (:func:`reconcile_with_number`) only the resident holding that number is
compared: a valid number that belongs to someone else (a family member's, a person with the same
name and birth date) is ``held``. Without one (:func:`reconcile_by_items`) the residents found by
birth date and sex are searched for a unique 5-item match.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

from onshi.registration.normalise import FieldKind, Match, TextKey, compare


class Item(StrEnum):
    KANJI_NAME = "kanji_name"
    KANA_NAME = "kana_name"
    BIRTH_DATE = "birth_date"
    SEX = "sex"
    ADDRESS = "address"


ITEMS: Final[tuple[Item, ...]] = tuple(Item)


class Outcome(StrEnum):
    LINKED = "linked"
    LINKED_CONFIRM = "linked_confirm"
    HELD = "held"


@dataclass(frozen=True, slots=True)
class Applicant:
    """The insurer's 5 items of one member (sex '1' 男 / '2' 女, as the qualification codes)."""

    kanji_name: TextKey
    kana_name: TextKey
    birth_date: date
    sex: str
    address: TextKey

    @classmethod
    def of(
        cls, kanji_name: str, kana_name: str, birth_date: date, sex: str, address: str | None
    ) -> Applicant:
        return cls(
            TextKey(FieldKind.KANJI_NAME, kanji_name),
            TextKey(FieldKind.KANA_NAME, kana_name),
            birth_date,
            sex,
            TextKey(FieldKind.ADDRESS, address),
        )


@dataclass(frozen=True, slots=True)
class Resident:
    """A J-LIS resident with its comparison keys; each key is folded the first time a
    comparison needs it, and only once (the caller keeps residents across rows); ``ref``
    identifies it to the caller."""

    ref: Hashable
    kanji_name: TextKey
    kana_name: TextKey
    birth_date: date
    sex: str
    address: TextKey

    @classmethod
    def of(  # noqa: PLR0917  (the 5 items in their documented order)
        cls,
        ref: Hashable,
        kanji_name: str,
        kana_name: str,
        birth_date: date,
        sex: str,
        address: str,
    ) -> Resident:
        return cls(
            ref,
            TextKey(FieldKind.KANJI_NAME, kanji_name),
            TextKey(FieldKind.KANA_NAME, kana_name),
            birth_date,
            sex,
            TextKey(FieldKind.ADDRESS, address),
        )

    def __repr__(self) -> str:  # no personal data in logs and tracebacks
        return f"Resident({self.ref!r})"


@dataclass(frozen=True, slots=True)
class ItemResult:
    item: Item
    match: Match
    variations: tuple[str, ...] = ()

    @property
    def matches(self) -> bool:
        return self.match in (Match.EXACT, Match.VARIANT)


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: Outcome
    reason_code: str
    resident: Resident | None = None  # the resident linked (None when held)
    items: tuple[ItemResult, ...] = ()  # against the resident linked or the nearest one

    @property
    def differing(self) -> tuple[Item, ...]:
        return tuple(result.item for result in self.items if not result.matches)

    @property
    def variations(self) -> tuple[tuple[Item, str], ...]:
        return tuple((r.item, name) for r in self.items for name in r.variations)


def _exact(item: Item, same: bool) -> ItemResult:
    return ItemResult(item, Match.EXACT if same else Match.DIFFERENT)


#: Every item the same (most rows): one shared answer.
ALL_EXACT: Final = tuple(ItemResult(item, Match.EXACT) for item in ITEMS)


def compare_items(applicant: Applicant, resident: Resident) -> tuple[ItemResult, ...]:
    """Each of the 5 items of ``applicant`` against ``resident``."""
    kanji, kana, address = (
        applicant.kanji_name.canon,
        applicant.kana_name.canon,
        applicant.address.canon,
    )
    if (
        kanji and kana and address
        and kanji == resident.kanji_name.canon
        and kana == resident.kana_name.canon
        and address == resident.address.canon
        and applicant.birth_date == resident.birth_date
        and applicant.sex == resident.sex
    ):  # fmt: skip
        return ALL_EXACT
    texts: list[ItemResult] = []
    for item, mine, theirs in (
        (Item.KANJI_NAME, applicant.kanji_name, resident.kanji_name),
        (Item.KANA_NAME, applicant.kana_name, resident.kana_name),
    ):
        match, variations = compare(mine, theirs)
        texts.append(ItemResult(item, match, variations))
    match, variations = compare(applicant.address, resident.address)
    return (
        texts[0],
        texts[1],
        _exact(Item.BIRTH_DATE, applicant.birth_date == resident.birth_date),
        _exact(Item.SEX, applicant.sex == resident.sex),
        ItemResult(Item.ADDRESS, match, variations),
    )


def _all_match(applicant: Applicant, resident: Resident) -> bool:
    """The 5 items match (exactly or through variations); cheapest checks first, stopping at
    the first difference."""
    if applicant.birth_date != resident.birth_date or applicant.sex != resident.sex:
        return False
    for mine, theirs in (
        (applicant.kana_name, resident.kana_name),
        (applicant.kanji_name, resident.kanji_name),
        (applicant.address, resident.address),
    ):
        if not mine.canon or not theirs.canon:
            return False
        if mine.canon != theirs.canon and compare(mine, theirs)[0] is not Match.VARIANT:
            return False
    return True


def _linked(resident: Resident, items: tuple[ItemResult, ...]) -> Verdict:
    if all(result.match is Match.EXACT for result in items):
        return Verdict(Outcome.LINKED, "five_items.match", resident, items)
    return Verdict(Outcome.LINKED_CONFIRM, "five_items.variant", resident, items)


def reconcile_with_number(applicant: Applicant, holder: Resident | None) -> Verdict:
    """A 個人番号 was given: ``holder`` is the resident J-LIS knows under it (None: unknown).
    Linked only when that resident's 5 items match the insurer's."""
    if holder is None:
        return Verdict(Outcome.HELD, "my_number.not_found")
    items = compare_items(applicant, holder)
    if all(result.matches for result in items):
        return _linked(holder, items)
    return Verdict(Outcome.HELD, "my_number.mismatch", None, items)


def reconcile_by_items(applicant: Applicant, candidates: Iterable[Resident]) -> Verdict:
    """No 個人番号: search ``candidates`` (the residents of the same birth date and sex, or any
    wider set) for the one resident whose 5 items match."""
    pool: Sequence[Resident] = tuple(candidates)
    matches = [resident for resident in pool if _all_match(applicant, resident)]
    if len(matches) == 1:
        return _linked(matches[0], compare_items(applicant, matches[0]))
    if len(matches) > 1:
        return Verdict(Outcome.HELD, "five_items.not_unique")
    if not pool:
        return Verdict(Outcome.HELD, "five_items.no_resident")
    nearest = max(
        (compare_items(applicant, resident) for resident in pool),
        key=lambda items: sum(result.matches for result in items),
    )
    return Verdict(Outcome.HELD, "five_items.mismatch", None, nearest)


def insurer_change_differences(
    applicant: Applicant, existing_birth_date: date, existing_kana: str
) -> tuple[Item, ...]:
    """On a change of insurer: the items among 生年月日 and カナ氏名 in which the new member
    differs from the person's existing record (kana spelling variants tolerated)."""
    differing: list[Item] = []
    if applicant.birth_date != existing_birth_date:
        differing.append(Item.BIRTH_DATE)
    kana, _ = compare(applicant.kana_name, TextKey(FieldKind.KANA_NAME, existing_kana))
    if kana not in (Match.EXACT, Match.VARIANT):
        differing.append(Item.KANA_NAME)
    return tuple(differing)
