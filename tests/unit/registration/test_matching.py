"""The outcomes of the 5-item reconciliation: linked, linked_confirm (variations listed), held
(the differing items named); never on 3 or 4 items, never on a non-unique match, and a valid
個人番号 of someone else is held."""

from __future__ import annotations

from datetime import date

import pytest

from onshi.registration.matching import (
    Applicant,
    Item,
    Outcome,
    Resident,
    insurer_change_differences,
    reconcile_by_items,
    reconcile_with_number,
)

BIRTH = date(1980, 4, 1)
TARO = Resident.of("taro", "山田 太郎", "ヤマダ タロウ", BIRTH, "1", "東京都千代田区霞が関1-2-2")
# his twin brother: same birth date, sex and address
JIRO = Resident.of("jiro", "山田 次郎", "ヤマダ ジロウ", BIRTH, "1", "東京都千代田区霞が関1-2-2")
# someone else with the same name, sex and birth date, elsewhere
NAMESAKE = Resident.of(
    "namesake", "山田 太郎", "ヤマダ タロウ", BIRTH, "1", "大阪府大阪市北区梅田3-1-1"
)
MOTHER = Resident.of("mother", "山田 花子", "ヤマダ ハナコ", date(1955, 6, 7), "2",
                     "東京都千代田区霞が関1-2-2")  # fmt: skip


def _taro(**changes: object) -> Applicant:
    values: dict[str, object] = {
        "kanji_name": "山田 太郎",
        "kana_name": "ヤマダ タロウ",
        "birth_date": BIRTH,
        "sex": "1",
        "address": "東京都千代田区霞が関1-2-2",
    }
    values.update(changes)
    return Applicant.of(**values)  # type: ignore[arg-type]


def test_all_five_the_same_is_linked() -> None:
    verdict = reconcile_by_items(_taro(), [TARO, JIRO, NAMESAKE])
    assert (verdict.outcome, verdict.reason_code) == (Outcome.LINKED, "five_items.match")
    assert verdict.resident is TARO
    assert verdict.variations == ()


def test_variations_only_is_linked_confirm_listing_each() -> None:
    applicant = _taro(kana_name="ﾔﾏﾀﾞ ﾀﾛｰ", address="東京都千代田区霞ヶ関一丁目二番地二号")
    verdict = reconcile_by_items(applicant, [TARO, JIRO])
    assert verdict.outcome is Outcome.LINKED_CONFIRM
    assert verdict.resident is TARO
    assert verdict.variations == (
        (Item.KANA_NAME, "width"),
        (Item.KANA_NAME, "kana_long_vowel"),
        (Item.ADDRESS, "address_ga"),
        (Item.ADDRESS, "address_numerals"),
        (Item.ADDRESS, "address_block"),
    )


@pytest.mark.parametrize(
    ("changes", "differing"),
    [
        ({"kanji_name": "山田 太朗"}, (Item.KANJI_NAME,)),
        ({"address": "東京都千代田区霞が関1-2-3"}, (Item.ADDRESS,)),
        ({"address": ""}, (Item.ADDRESS,)),  # a missing address is not a match
        ({"address": "東京都千代田区霞が丘1-2-2"}, (Item.ADDRESS,)),
        (
            {"kanji_name": "山田 太朗", "address": "東京都港区芝1-1-1"},
            (Item.KANJI_NAME, Item.ADDRESS),
        ),
    ],
)
def test_four_or_three_items_are_never_linked(
    changes: dict[str, object], differing: tuple[Item, ...]
) -> None:
    verdict = reconcile_by_items(_taro(**changes), [TARO])
    assert (verdict.outcome, verdict.reason_code) == (Outcome.HELD, "five_items.mismatch")
    assert verdict.resident is None
    assert verdict.differing == differing


def test_three_item_lookalike_is_held_naming_the_nearest_differences() -> None:
    # kana, birth date and sex of Taro, but another kanji name and address: 3 items
    verdict = reconcile_by_items(
        _taro(kanji_name="矢間田 太郎", address="神奈川県横浜市中区1-1"), [TARO, NAMESAKE]
    )
    assert verdict.outcome is Outcome.HELD
    assert verdict.differing == (Item.KANJI_NAME, Item.ADDRESS)


def test_same_name_same_birthday_pair_never_links_without_the_address() -> None:
    verdict = reconcile_by_items(_taro(address=""), [TARO, NAMESAKE])
    assert verdict.outcome is Outcome.HELD
    # with the right address, only Taro matches
    assert reconcile_by_items(_taro(), [TARO, NAMESAKE]).resident is TARO


def test_a_five_item_match_that_is_not_unique_is_held() -> None:
    double = Resident.of(
        "double", "山田 太郎", "ヤマダ タロウ", BIRTH, "1", "東京都千代田区霞が関1丁目2番2号"
    )
    verdict = reconcile_by_items(_taro(), [TARO, double])
    assert (verdict.outcome, verdict.reason_code) == (Outcome.HELD, "five_items.not_unique")
    assert verdict.resident is None


def test_no_candidate_is_held() -> None:
    verdict = reconcile_by_items(_taro(), [])
    assert (verdict.outcome, verdict.reason_code) == (Outcome.HELD, "five_items.no_resident")


def test_with_my_number_linked_when_its_resident_matches() -> None:
    verdict = reconcile_with_number(_taro(), TARO)
    assert (verdict.outcome, verdict.resident) == (Outcome.LINKED, TARO)


def test_with_my_number_variations_are_linked_confirm() -> None:
    verdict = reconcile_with_number(_taro(kanji_name="山田太郎"), TARO)
    assert verdict.outcome is Outcome.LINKED_CONFIRM
    assert verdict.variations == ((Item.KANJI_NAME, "spaces"),)


@pytest.mark.parametrize(
    ("holder", "differing"),
    [
        (MOTHER, (Item.KANJI_NAME, Item.KANA_NAME, Item.BIRTH_DATE, Item.SEX)),  # family's number
        (JIRO, (Item.KANJI_NAME, Item.KANA_NAME)),  # the twin's number
        (NAMESAKE, (Item.ADDRESS,)),  # same name, same birthday, another person
    ],
)
def test_a_valid_number_of_someone_else_is_held(
    holder: Resident, differing: tuple[Item, ...]
) -> None:
    verdict = reconcile_with_number(_taro(), holder)
    assert (verdict.outcome, verdict.reason_code) == (Outcome.HELD, "my_number.mismatch")
    assert verdict.resident is None
    assert verdict.differing == differing


def test_an_unknown_number_is_held() -> None:
    verdict = reconcile_with_number(_taro(), None)
    assert (verdict.outcome, verdict.reason_code) == (Outcome.HELD, "my_number.not_found")


def test_insurer_change_compares_birth_date_and_kana() -> None:
    assert insurer_change_differences(_taro(), BIRTH, "ヤマダ タロウ") == ()
    assert insurer_change_differences(_taro(), BIRTH, "ﾔﾏﾀﾞ ﾀﾛｳ") == ()
    assert insurer_change_differences(_taro(), date(1980, 4, 2), "ヤマダ タロウ") == (
        Item.BIRTH_DATE,
    )
    assert insurer_change_differences(_taro(), BIRTH, "ヤマダ ハナコ") == (Item.KANA_NAME,)


def test_messages_name_the_items_in_both_languages() -> None:
    from onshi.registration.catalogue import verdict_message

    held = reconcile_with_number(_taro(), JIRO)
    text = verdict_message(held)
    assert "漢字氏名、カナ氏名" in text
    assert "kanji name, kana name" in text
    confirm = reconcile_with_number(_taro(address="東京都千代田区霞が関１－２－２"), TARO)
    assert "住所: 全角・半角" in verdict_message(confirm)
    assert "address: full/half width" in verdict_message(confirm)


def test_resident_repr_has_no_personal_data() -> None:
    assert "山田" not in repr(TARO)
