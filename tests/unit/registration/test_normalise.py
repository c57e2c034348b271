"""Variant tables for every normalisation rule of the 5-item check: the pairs each rule
tolerates, and the distinct values it must never fold together."""

from __future__ import annotations

import pytest

from onshi.registration.normalise import (
    ALL_VARIATIONS,
    RULES,
    FieldKind,
    Match,
    TextKey,
    address_block,
    address_ga,
    address_numerals,
    canonical,
    compare,
    kana_hiragana,
    kana_historical,
    kana_ji_zu,
    kana_long_vowel,
    kana_small,
    kana_vu,
    spaces,
    width,
    wildcard_match,
)

KANJI, KANA, ADDRESS = FieldKind.KANJI_NAME, FieldKind.KANA_NAME, FieldKind.ADDRESS


def _compare(kind: FieldKind, insurer: str, resident: str) -> tuple[Match, tuple[str, ...]]:
    return compare(TextKey(kind, insurer), TextKey(kind, resident, eager=True))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("山田 太郎", "山田 太郎"),
        ("  山田\u3000\u3000太郎 ", "山田 太郎"),
        ("山田\t太郎", "山田 太郎"),
        ("か\u3099", "が"),  # NFC composes a combining voiced mark
    ],
)
def test_canonical_is_the_same_value(raw: str, expected: str) -> None:
    assert canonical(raw) == expected


@pytest.mark.parametrize(
    ("rule", "raw", "expected"),
    [
        (width, "ﾔﾏﾀﾞ", "ヤマダ"),
        (width, "１－２－３", "1-2-3"),
        (width, "ＡＢＣ", "ABC"),
        (spaces, "山田 太郎", "山田太郎"),
        (spaces, "ジョン・スミス", "ジョンスミス"),
        (kana_hiragana, "やまだ", "ヤマダ"),
        (kana_small, "キョウコ", "キヨウコ"),
        (kana_small, "ハットリ", "ハツトリ"),
        (kana_vu, "ヴァイオレット", "バイオレット"),
        (kana_vu, "ヴィクトル", "ビクトル"),
        (kana_vu, "ヴェラ", "ベラ"),
        (kana_vu, "ヴォルフ", "ボルフ"),
        (kana_vu, "ヴ", "ブ"),
        (kana_long_vowel, "サトー", "サトウ"),
        (kana_long_vowel, "ユーコ", "ユウコ"),
        (kana_long_vowel, "ケーコ", "ケイコ"),
        (kana_long_vowel, "マーヤ", "マアヤ"),
        (kana_ji_zu, "ミカヅキ", "ミカズキ"),
        (kana_ji_zu, "チヂミ", "チジミ"),
        (kana_historical, "ヰヱヲ", "イエオ"),
        (address_ga, "霞ヶ関", "霞ケ関"),
        (address_ga, "霞が関", "霞ケ関"),
        (address_ga, "霞ガ関", "霞ケ関"),
        (address_ga, "ケヤキ台", "ケヤキ台"),  # not between two kanji
        (address_numerals, "一丁目", "1丁目"),
        (address_numerals, "十一丁目", "11丁目"),
        (address_numerals, "二番三号", "2番3号"),
        (address_numerals, "一丁目二番三", "1丁目2番3"),
        (address_numerals, "千代田区", "千代田区"),
        (address_numerals, "八丁堀", "八丁堀"),
        (address_numerals, "一番町", "一番町"),
        (address_block, "1丁目2番地2号", "1-2-2"),
        (address_block, "1丁目2番2号", "1-2-2"),
        (address_block, "1の2の2", "1-2-2"),
        (address_block, "1ノ2ノ2", "1-2-2"),
        (address_block, "2番地の2", "2-2"),
        (address_block, "1−2−2", "1-2-2"),
        (address_block, "1ー2ー2", "1-2-2"),
        (address_block, "1丁目2番地", "1-2"),
    ],
)
def test_each_rule(rule: object, raw: str, expected: str) -> None:
    assert callable(rule)
    assert rule(raw) == expected


# (field, insurer's value, resident's value, variations listed)
TOLERATED = [
    (KANJI, "山田太郎", "山田 太郎", ("spaces",)),
    (KANJI, "ｶﾀｵｶ 太郎", "カタオカ 太郎", ("width",)),
    (KANJI, "山● 太郎", "山﨑 太郎", ("unstorable_char",)),
    (KANJI, "●田 花子", "髙田 花子", ("unstorable_char",)),
    (KANA, "ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ タロウ", ("width",)),
    (KANA, "ヤマダタロウ", "ヤマダ タロウ", ("spaces",)),
    (KANA, "やまだ たろう", "ヤマダ タロウ", ("kana_hiragana",)),
    (KANA, "キヨウコ", "キョウコ", ("kana_small",)),
    (KANA, "ビクトル", "ヴィクトル", ("kana_vu",)),
    (KANA, "サトー ユーコ", "サトウ ユウコ", ("kana_long_vowel",)),
    (KANA, "ミカズキ", "ミカヅキ", ("kana_ji_zu",)),
    (KANA, "カヲル", "カオル", ("kana_historical",)),
    (ADDRESS, "東京都千代田区霞が関1丁目2番地2号", "東京都千代田区霞が関1-2-2", ("address_block",)),
    (ADDRESS, "東京都千代田区霞が関一丁目二番二号", "東京都千代田区霞が関1-2-2",
     ("address_numerals", "address_block")),
    (ADDRESS, "東京都千代田区霞が関１－２－２", "東京都千代田区霞が関1-2-2", ("width",)),
    (ADDRESS, "東京都千代田区霞ヶ関1-2-2", "東京都千代田区霞が関1-2-2", ("address_ga",)),
    (ADDRESS, "東京都千代田区霞ケ関1-2-2", "東京都千代田区霞が関1-2-2", ("address_ga",)),
    (ADDRESS, "東京都千代田区霞が関1-2-2ハイツ101", "東京都千代田区霞が関1-2-2 ハイツ101",
     ("spaces",)),
    (ADDRESS, "東京都千代田区霞が関1-2ノ2", "東京都千代田区霞が関1-2-2", ("address_block",)),
    (ADDRESS, "東京都千代田区●が関1-2-2", "東京都千代田区霞が関1-2-2", ("unstorable_char",)),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "insurer", "resident", "variations"), TOLERATED)
def test_tolerated_variations_match_and_are_listed(
    kind: FieldKind, insurer: str, resident: str, variations: tuple[str, ...]
) -> None:
    assert _compare(kind, insurer, resident) == (Match.VARIANT, variations)


# Distinct names and places: never folded together.
DISTINCT = [
    (ADDRESS, "東京都千代田区霞が関1-2-2", "東京都千代田区霞が丘1-2-2"),
    (ADDRESS, "東京都千代田区霞が関一丁目2番2号", "東京都千代田区霞が関十一丁目2番2号"),
    (ADDRESS, "東京都千代田区霞が関1丁目2番2号", "東京都千代田区霞が関1丁目2番3号"),
    (ADDRESS, "東京都千代田区霞が関1-2-2", "東京都千代田区霞が関1-22"),
    (ADDRESS, "東京都千代田区霞が関1-2-2", "東京都千代田区霞が関12-2"),
    (ADDRESS, "東京都千代田区霞が関1-2-2", "千代田区霞が関1-2-2"),
    (ADDRESS, "大阪府大阪市北区梅田1-2-2", "東京都千代田区霞が関1-2-2"),
    (KANA, "オオノ", "オウノ"),
    (KANA, "ヤマダ タロウ", "ヤマダ ジロウ"),
    (KANA, "サトウ", "サイトウ"),
    (KANJI, "山田 太郎", "山田 次郎"),
    (KANJI, "斉藤 一郎", "斎藤 一郎"),  # different characters are different names
    (KANJI, "●● 太郎", "髙橋 太郎"),  # ● for 2 of 4 characters: not a minority
    (KANJI, "●●", "髙橋"),
    (KANJI, "山●郎", "山田 太郎"),  # the wildcard stands for exactly one character
]


@pytest.mark.parametrize(("kind", "insurer", "resident"), DISTINCT)
def test_distinct_values_are_never_folded(kind: FieldKind, insurer: str, resident: str) -> None:
    assert _compare(kind, insurer, resident) == (Match.DIFFERENT, ())


@pytest.mark.parametrize(
    ("insurer", "resident"), [("", "東京都千代田区霞が関1-2-2"), ("東京都", ""), ("  ", "東京都")]
)
def test_a_missing_value_is_not_a_match(insurer: str, resident: str) -> None:
    assert _compare(ADDRESS, insurer, resident)[0] is Match.MISSING


def test_identical_values_are_exact() -> None:
    assert _compare(KANA, "ヤマダ\u3000タロウ", "ヤマダ タロウ") == (Match.EXACT, ())


def test_wildcard_only_for_a_minority() -> None:
    assert wildcard_match("山●太郎", "山﨑太郎")
    assert not wildcard_match("山●●郎", "山﨑太郎")
    assert not wildcard_match("山●太", "山﨑太郎")
    assert not wildcard_match("山田太郎", "山田太郎")  # no wildcard at all


def test_kana_has_no_wildcard() -> None:
    assert _compare(KANA, "ヤ●ダ", "ヤマダ") == (Match.DIFFERENT, ())


def test_every_variation_has_both_languages() -> None:
    from onshi.registration.catalogue import messages

    for language in ("ja", "en"):
        for name in ALL_VARIATIONS:
            assert f"registration.variation.{name}" in messages()[language]
    assert set(messages()["ja"]) == set(messages()["en"])
    assert {name for rules in RULES.values() for name, _ in rules} | {"unstorable_char"} == set(
        ALL_VARIATIONS
    )


def test_no_personal_data_in_repr() -> None:
    assert "山田" not in repr(TextKey(KANJI, "山田 太郎"))
