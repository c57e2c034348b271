"""GENERATED insurer catalogue: every kind, with valid 保険者番号 (Luhn 検証番号).

* 協会けんぽ: one 支部 per prefecture, 01 + 都道府県 + 001 (東京支部 = 01130012, as published).
* 健康保険組合 (06): synthetic company societies, several per large prefecture.
* 共済組合: 31 国家公務員 (one, Tokyo), 32 地方職員 / 33 警察 / 34 公立学校 per prefecture.
* 市町村国保: 6 digits, one per generated municipality (都道府県 + 保険者別 1xx + 検証).
* 国保組合: 6 digits, a 医師国保 per prefecture (都道府県 + 3xx + 検証).
* 後期高齢者医療広域連合 (39): one per prefecture, 39 + 都道府県 + 101.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime

from onshi import reference
from onshi.identifiers.checkdigit import luhn_check_digit
from onshi.seeding.geography import MUNICIPALITIES

_SOCIETY_STEMS = (
    "東和電機",
    "日本精工業",
    "北斗運輸",
    "三光商事",
    "大和製薬",
    "中央化学",
    "富士通信",
    "明治食品",
    "平和建設",
    "東洋自動車",
    "朝日印刷",
    "中部電力機器",
    "西日本鉄道車両",
    "山陽化成",
    "太平洋海運",
    "北陸銀行協会",
    "九州電子",
    "関東百貨店",
    "ミドリ薬品",
    "さくら情報システム",
)


@dataclass(frozen=True, slots=True)
class InsurerSpec:
    id: int
    number: str
    name: str
    kind: str  # onshi.qualification.models.InsurerKind value
    prefecture_code: str
    houbetsu: str | None


CREATED_AT = datetime(2015, 4, 1, tzinfo=UTC)


def with_check_digit(payload: str) -> str:
    return f"{payload}{luhn_check_digit(payload)}"


@dataclass(frozen=True, slots=True)
class InsurerCatalogue:
    insurers: tuple[InsurerSpec, ...]
    kyokai: dict[str, InsurerSpec]
    societies: dict[str, tuple[InsurerSpec, ...]]
    kyosai: dict[str, tuple[InsurerSpec, ...]]
    kokuho: dict[tuple[str, int], InsurerSpec]
    kokuho_kumiai: dict[str, InsurerSpec]
    koki: dict[str, InsurerSpec]


def build_catalogue(rng: random.Random, societies_per_prefecture: int) -> InsurerCatalogue:
    specs: list[InsurerSpec] = []

    def add(number: str, name: str, kind: str, pref: str, houbetsu: str | None) -> InsurerSpec:
        spec = InsurerSpec(len(specs) + 1, number, name, kind, pref, houbetsu)
        specs.append(spec)
        return spec

    kyokai: dict[str, InsurerSpec] = {}
    societies: dict[str, tuple[InsurerSpec, ...]] = {}
    kyosai: dict[str, tuple[InsurerSpec, ...]] = {}
    kokuho: dict[tuple[str, int], InsurerSpec] = {}
    kumiai: dict[str, InsurerSpec] = {}
    koki: dict[str, InsurerSpec] = {}
    national = add(with_check_digit("3113001"), "国家公務員共済組合連合会", "kyosai", "13", "31")
    for pref in reference.prefectures():
        code = pref.code
        kyokai[code] = add(
            with_check_digit(f"01{code}001"),
            f"全国健康保険協会 {pref.short_name}支部",
            "kyokai_kenpo",
            code,
            "01",
        )
        big = code in {"13", "27", "23", "14", "11", "12", "28", "40"}
        count = societies_per_prefecture * (4 if big else 1)
        own = []
        for k in range(count):
            stem = rng.choice(_SOCIETY_STEMS)
            own.append(
                add(
                    with_check_digit(f"06{code}{k + 101:03d}"),
                    f"{stem}健康保険組合（{pref.short_name}）",
                    "kenpo_kumiai",
                    code,
                    "06",
                )
            )
        societies[code] = tuple(own)
        kyosai[code] = (
            national,
            add(
                with_check_digit(f"32{code}001"),
                f"地方職員共済組合 {pref.name}支部",
                "kyosai",
                code,
                "32",
            ),
            add(
                with_check_digit(f"33{code}001"),
                f"警察共済組合 {pref.name}支部",
                "kyosai",
                code,
                "33",
            ),
            add(
                with_check_digit(f"34{code}001"),
                f"公立学校共済組合 {pref.name}支部",
                "kyosai",
                code,
                "34",
            ),
        )
        for index, (municipality, _postal) in enumerate(MUNICIPALITIES[code]):
            kokuho[(code, index)] = add(
                with_check_digit(f"{code}{101 + index:03d}"),
                f"{municipality}国民健康保険",
                "shichoson_kokuho",
                code,
                None,
            )
        kumiai[code] = add(
            with_check_digit(f"{code}301"),
            f"{pref.name}医師国民健康保険組合",
            "kokuho_kumiai",
            code,
            None,
        )
        koki[code] = add(
            with_check_digit(f"39{code}101"),
            f"{pref.name}後期高齢者医療広域連合",
            "koki_koreisha",
            code,
            "39",
        )
    return InsurerCatalogue(tuple(specs), kyokai, societies, kyosai, kokuho, kumiai, koki)


def insurer_rows(catalogue: InsurerCatalogue) -> list[dict[str, object]]:
    return [
        {
            "id": s.id,
            "number": s.number,
            "name": s.name,
            "kind": s.kind,
            "prefecture_code": s.prefecture_code,
            "houbetsu": s.houbetsu,
            "created_at": CREATED_AT,
        }
        for s in catalogue.insurers
    ]
