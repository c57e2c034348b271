"""Normalisation of the 5 items (漢字氏名, カナ氏名, 住所) for the reconciliation with J-LIS.

Two levels:

* :func:`canonical` is the text itself: Unicode NFC, no leading or trailing space, every run
  of white space (ASCII or the ideographic U+3000) one separator. Two values with the same
  canonical form are the *same* value.
* The **tolerated variations** (:data:`RULES`): each rule is a small text function with a name
  (its reason code, ``variation.<name>`` in ``messages.toml``). A value matches another only
  through tolerated variations when their *folded* forms (every rule of the field applied in
  order) are equal; the rules that were needed are listed so that the insurer confirms them with
  the member (the result ``linked_confirm``).

The rules never fold distinct places or names together: 霞が関 ≠ 霞が丘, 一丁目 ≠ 十一丁目,
2番2号 ≠ 2番3号. '●' (a character the insurer's system cannot store) is a wildcard for exactly
one character, tolerated only for a minority of a value's characters (:func:`wildcard_match`).

Speed: the reconciliation compares canonical forms first and folds only when they differ; a
value's folded form is computed at most once, when a comparison first needs it (:class:`TextKey`
keeps it), so a resident compared with many rows is folded once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Final

import jaconv
import kanjize

UNSTORABLE: Final = "●"


class FieldKind(StrEnum):
    KANJI_NAME = "kanji_name"
    KANA_NAME = "kana_name"
    ADDRESS = "address"


def canonical(text: str) -> str:
    """NFC, trimmed, every run of white space one ASCII space."""
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return " ".join(text.split())


# --- the rules ----------------------------------------------------------------------------


def width(text: str) -> str:
    """全角・半角: Unicode NFKC. ``ﾔﾏﾀﾞ`` = ``ヤマダ``, ``１－２`` = ``1-2``,
    ``ＡＢＣ`` = ``ABC``."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFKC", text)


def spaces(text: str) -> str:
    """空白: spaces and the separator ``・`` removed. ``山田 太郎`` = ``山田太郎``."""
    return "".join(text.split()).replace("・", "")


_HAS_HIRAGANA: Final = re.compile("[\u3041-\u309f]")


def kana_hiragana(text: str) -> str:
    """ひらがな → カタカナ: ``やまだ`` = ``ヤマダ``."""
    return str(jaconv.hira2kata(text)) if _HAS_HIRAGANA.search(text) else text


_SMALL_KANA: Final = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")
_HAS_SMALL: Final = re.compile("[ァィゥェォッャュョヮヵヶ]")


def kana_small(text: str) -> str:
    """小書き仮名 → 並字: ``キョウコ`` = ``キヨウコ``, ``ハットリ`` = ``ハツトリ``."""
    return text.translate(_SMALL_KANA) if _HAS_SMALL.search(text) else text


_VU: Final = re.compile("ヴ[ァアィイェエォオ]?")
_VU_MAP: Final = {
    "ヴ": "ブ",
    "ヴァ": "バ",
    "ヴア": "バ",
    "ヴィ": "ビ",
    "ヴイ": "ビ",
    "ヴェ": "ベ",
    "ヴエ": "ベ",
    "ヴォ": "ボ",
    "ヴオ": "ボ",
}


def kana_vu(text: str) -> str:
    """ヴ行 → バ行: ``ヴァ`` = ``バ``, ``ヴィ`` = ``ビ``, ``ヴ`` = ``ブ``, ``ヴェ`` = ``ベ``,
    ``ヴォ`` = ``ボ`` (``ヴィクトル`` = ``ビクトル``)."""
    if "ヴ" not in text:
        return text
    return _VU.sub(lambda m: _VU_MAP[m.group()], text)


def _vowel_table() -> dict[str, str]:
    rows = {
        "ア": "アカガサザタダナハバパマヤラワァャヮヵ",
        "イ": "イキギシジチヂニヒビピミリィヰ",
        "ウ": "ウクグスズツヅヌフブプムユルゥュッヴ",
        "エ": "エケゲセゼテデネヘベペメレェヱヶ",
        "オ": "オコゴソゾトドノホボポモヨロォョヲ",
    }
    # the long vowel as it is spelled in kana: ウ after the o and u rows, イ after the e row
    spelled = {"ア": "ア", "イ": "イ", "ウ": "ウ", "エ": "イ", "オ": "ウ"}
    return {char: spelled[vowel] for vowel, chars in rows.items() for char in chars}


_LONG_VOWEL: Final = _vowel_table()


def kana_long_vowel(text: str) -> str:
    """長音 ``ー`` → the kana spelling of the long vowel: ウ after the o and u rows, イ after
    the e row, the vowel itself after the a and i rows. ``サトー`` = ``サトウ``,
    ``ユーコ`` = ``ユウコ``, ``ケーコ`` = ``ケイコ``. ``オーノ`` becomes ``オウノ``, not
    ``オオノ``: オオ and オウ are different names and are not folded."""
    if "ー" not in text:
        return text
    out: list[str] = []
    for char in text:
        if char == "ー" and out and out[-1] in _LONG_VOWEL:
            out.append(_LONG_VOWEL[out[-1]])
        else:
            out.append(char)
    return "".join(out)


_JI_ZU: Final = str.maketrans("ヂヅ", "ジズ")


def kana_ji_zu(text: str) -> str:
    """四つ仮名: ``ヂ`` = ``ジ``, ``ヅ`` = ``ズ`` (``ミカヅキ`` = ``ミカズキ``)."""
    return text.translate(_JI_ZU) if ("ヂ" in text or "ヅ" in text) else text


_HISTORICAL: Final = str.maketrans("ヰヱヲ", "イエオ")
_HAS_HISTORICAL: Final = re.compile("[ヰヱヲ]")


def kana_historical(text: str) -> str:
    """歴史的仮名: ``ヰ`` = ``イ``, ``ヱ`` = ``エ``, ``ヲ`` = ``オ``."""
    return text.translate(_HISTORICAL) if _HAS_HISTORICAL.search(text) else text


_CJK: Final = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々"
_GA: Final = re.compile(f"(?<=[{_CJK}●])[ヶケヵがガ](?=[{_CJK}●])")  # ● stands for a kanji
_HAS_GA: Final = re.compile("[ヶケヵがガ]")


def address_ga(text: str) -> str:
    """ヶ・ケ・ヵ・が・ガ between two kanji of a place name are one: ``霞ヶ関`` = ``霞ケ関`` =
    ``霞が関``. Only that character is folded: ``霞が関`` ≠ ``霞が丘``."""
    return _GA.sub("ケ", text) if _HAS_GA.search(text) else text


_KANJI_DIGITS: Final = "〇一二三四五六七八九十百千"
# a kanji numeral directly before a block unit (番 of a town name such as 一番町 excluded)
_NUMERAL_UNIT: Final = re.compile(f"([{_KANJI_DIGITS}]+)(?=丁目|番地|番(?!町)|号)")
# a kanji numeral after a block already written in digits (一丁目二番三: the last 三)
_NUMERAL_TAIL: Final = re.compile(
    f"([0-9](?:丁目|番地|番|号|の|ノ|-))([{_KANJI_DIGITS}]+)(?![{_CJK}])"
)
_ANY_NUMERAL: Final = re.compile(
    f"[{_KANJI_DIGITS}]+(?:丁目|番地|番(?!町)|号)|[0-9].*[{_KANJI_DIGITS}]"
)


def _arabic(numeral: str) -> str:
    try:
        return str(kanjize.kanji2number(numeral))
    except (ValueError, KeyError, TypeError, IndexError):
        return numeral


def address_numerals(text: str) -> str:
    """漢数字 in the block → digits (kanjize): ``一丁目`` = ``1丁目``, ``十一丁目`` = ``11丁目``,
    ``二番三号`` = ``2番3号``. Only numerals that are part of the block are read (before 丁目,
    番地, 番, 号, or after a block part): 千代田, 八丁堀, 一番町 keep their kanji."""
    if _ANY_NUMERAL.search(text) is None:
        return text
    text = _NUMERAL_UNIT.sub(lambda m: _arabic(m.group(1)), text)
    for _ in range(4):
        done = _NUMERAL_TAIL.sub(lambda m: m.group(1) + _arabic(m.group(2)), text)
        if done == text:
            break
        text = done
    return text


_DASH: Final = re.compile("[‐‑‒–—―−－﹣ｰ]|(?<=[0-9])ー(?=[0-9])")
# after a number: a block unit, の/ノ/之 before the next number, or hyphens: one "-"
_SEPARATOR: Final = re.compile(
    "(?<=[0-9])(?:(?:丁目|番地|番(?!町)|号)-*(?:[のノ之](?=[0-9]))?|-*[のノ之](?=[0-9])|-+)"
)
_LOOSE_DASH: Final = re.compile("-+(?![0-9])|(?<![0-9])-+")


def address_block(text: str) -> str:
    """番地の表記: ``1丁目2番地2号`` = ``1丁目2番2号`` = ``1-2-2`` = ``1の2の2``
    (丁目, 番地, 番, 号, の/ノ and every hyphen-like character written ``-``). The numbers and
    their order are kept: ``2番2号`` ≠ ``2番3号``."""
    text = _SEPARATOR.sub("-", _DASH.sub("-", text))
    return _LOOSE_DASH.sub("", text) if "-" in text else text


Rule = Callable[[str], str]

#: The tolerated variations of each field, in the order they are applied.
RULES: Final[dict[FieldKind, tuple[tuple[str, Rule], ...]]] = {
    FieldKind.KANJI_NAME: (("width", width), ("spaces", spaces)),
    FieldKind.KANA_NAME: (
        ("width", width),
        ("spaces", spaces),
        ("kana_hiragana", kana_hiragana),
        ("kana_small", kana_small),
        ("kana_vu", kana_vu),
        ("kana_long_vowel", kana_long_vowel),
        ("kana_ji_zu", kana_ji_zu),
        ("kana_historical", kana_historical),
    ),
    FieldKind.ADDRESS: (
        ("width", width),
        ("spaces", spaces),
        ("address_ga", address_ga),
        ("address_numerals", address_numerals),
        ("address_block", address_block),
    ),
}
#: Fields in which '●' may stand for a character the insurer's system cannot store.
WILDCARD_FIELDS: Final = frozenset({FieldKind.KANJI_NAME, FieldKind.ADDRESS})
ALL_VARIATIONS: Final[tuple[str, ...]] = (
    *dict.fromkeys(name for rules in RULES.values() for name, _ in rules),
    "unstorable_char",
)


def fold(kind: FieldKind, text: str, *, skip: str | None = None) -> str:
    """Every tolerated variation of ``kind`` applied to the canonical ``text`` (one rule left
    out with ``skip``)."""
    for name, rule in RULES[kind]:
        if name != skip:
            text = rule(text)
    return text


def wildcard_match(insurer: str, resident: str) -> bool:
    """``insurer`` equals ``resident`` where each '●' of ``insurer`` stands for exactly one
    character, and fewer than half of the characters are '●'."""
    count = insurer.count(UNSTORABLE)
    if count == 0 or len(insurer) != len(resident) or count * 2 >= len(insurer):
        return False
    return all(a in (b, UNSTORABLE) for a, b in zip(insurer, resident, strict=True))


class TextKey:
    """One value of a field: its canonical form, and its folded form computed on first use
    (at once with ``eager=True``, for the resident side that is compared many times)."""

    __slots__ = ("_folded", "canon", "kind")

    def __init__(self, kind: FieldKind, text: str | None, *, eager: bool = False) -> None:
        self.kind = kind
        self.canon = canonical(text or "")
        self._folded: str | None = fold(kind, self.canon) if eager else None

    @property
    def folded(self) -> str:
        if self._folded is None:
            self._folded = fold(self.kind, self.canon)
        return self._folded

    def __repr__(self) -> str:  # no personal data in logs and tracebacks
        return f"TextKey({self.kind.value})"


def _equal(kind: FieldKind, insurer: str, resident: str) -> bool:
    return insurer == resident or (
        kind in WILDCARD_FIELDS and UNSTORABLE in insurer and wildcard_match(insurer, resident)
    )


def needed_variations(kind: FieldKind, insurer: str, resident: str) -> tuple[str, ...]:
    """The variations through which canonical ``insurer`` matches canonical ``resident``: each
    rule without which the folded forms would differ, and ``unstorable_char`` when '●' was
    needed. Empty when they do not match at all."""
    a, b = fold(kind, insurer), fold(kind, resident)
    if not _equal(kind, a, b):
        return ()
    names = [
        name
        for name, _ in RULES[kind]
        if not _equal(kind, fold(kind, insurer, skip=name), fold(kind, resident, skip=name))
    ]
    if a != b:
        names.append("unstorable_char")
    if not names:  # two rules that each suffice: list the ones that changed anything
        names = [
            name
            for name, rule in RULES[kind]
            if rule(insurer) != insurer or rule(resident) != resident
        ]
    return tuple(names)


class Match(StrEnum):
    EXACT = "exact"
    VARIANT = "variant"
    DIFFERENT = "different"
    MISSING = "missing"


def compare(insurer: TextKey, resident: TextKey) -> tuple[Match, tuple[str, ...]]:
    """How the insurer's value compares with the resident's: the same, the same through the
    listed variations, different, or missing on either side (a missing value never matches)."""
    if not insurer.canon or not resident.canon:
        return Match.MISSING, ()
    if insurer.canon == resident.canon:
        return Match.EXACT, ()
    if not _equal(insurer.kind, insurer.folded, resident.folded):
        return Match.DIFFERENT, ()
    return Match.VARIANT, needed_variations(insurer.kind, insurer.canon, resident.canon)


def variations_of(names: Sequence[str]) -> tuple[str, ...]:
    """Known variation names only, in the documented order (for messages)."""
    return tuple(name for name in ALL_VARIATIONS if name in names)
