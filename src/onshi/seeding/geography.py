"""GENERATED-DATA geography: a few real municipalities per prefecture with their postal-code
prefixes, and street addresses written the way insurers and the resident registry write them.

Only the municipality names and the first three postal digits are real; towns, block numbers
and the last four postal digits are synthetic.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# prefecture code → ((municipality, postal prefix), …); the first is the prefectural capital.
MUNICIPALITIES: dict[str, tuple[tuple[str, str], ...]] = {
    "01": (("札幌市中央区", "060"), ("旭川市", "070"), ("函館市", "040"), ("釧路市", "085")),
    "02": (("青森市", "030"), ("弘前市", "036"), ("八戸市", "031")),
    "03": (("盛岡市", "020"), ("一関市", "021"), ("奥州市", "023")),
    "04": (("仙台市青葉区", "980"), ("石巻市", "986"), ("大崎市", "989")),
    "05": (("秋田市", "010"), ("横手市", "013"), ("大仙市", "014")),
    "06": (("山形市", "990"), ("鶴岡市", "997"), ("酒田市", "998")),
    "07": (("福島市", "960"), ("郡山市", "963"), ("いわき市", "970")),
    "08": (("水戸市", "310"), ("つくば市", "305"), ("日立市", "317")),
    "09": (("宇都宮市", "320"), ("小山市", "323"), ("足利市", "326")),
    "10": (("前橋市", "371"), ("高崎市", "370"), ("太田市", "373")),
    "11": (("さいたま市浦和区", "330"), ("川口市", "332"), ("川越市", "350"), ("所沢市", "359")),
    "12": (("千葉市中央区", "260"), ("船橋市", "273"), ("松戸市", "271"), ("柏市", "277")),
    "13": (
        ("千代田区", "100"),
        ("新宿区", "160"),
        ("世田谷区", "154"),
        ("練馬区", "176"),
        ("八王子市", "192"),
        ("足立区", "120"),
    ),
    "14": (
        ("横浜市中区", "231"),
        ("川崎市川崎区", "210"),
        ("相模原市中央区", "252"),
        ("藤沢市", "251"),
    ),
    "15": (("新潟市中央区", "951"), ("長岡市", "940"), ("上越市", "943")),
    "16": (("富山市", "930"), ("高岡市", "933"), ("射水市", "934")),
    "17": (("金沢市", "920"), ("白山市", "924"), ("小松市", "923")),
    "18": (("福井市", "910"), ("坂井市", "919"), ("越前市", "915")),
    "19": (("甲府市", "400"), ("甲斐市", "400"), ("南アルプス市", "400")),
    "20": (("長野市", "380"), ("松本市", "390"), ("上田市", "386")),
    "21": (("岐阜市", "500"), ("大垣市", "503"), ("各務原市", "504")),
    "22": (("静岡市葵区", "420"), ("浜松市中区", "430"), ("富士市", "416")),
    "23": (("名古屋市中区", "460"), ("豊田市", "471"), ("岡崎市", "444"), ("一宮市", "491")),
    "24": (("津市", "514"), ("四日市市", "510"), ("鈴鹿市", "513")),
    "25": (("大津市", "520"), ("草津市", "525"), ("長浜市", "526")),
    "26": (("京都市中京区", "604"), ("宇治市", "611"), ("亀岡市", "621")),
    "27": (("大阪市北区", "530"), ("堺市堺区", "590"), ("東大阪市", "577"), ("豊中市", "560")),
    "28": (("神戸市中央区", "650"), ("姫路市", "670"), ("西宮市", "662"), ("尼崎市", "660")),
    "29": (("奈良市", "630"), ("橿原市", "634"), ("生駒市", "630")),
    "30": (("和歌山市", "640"), ("田辺市", "646"), ("橋本市", "648")),
    "31": (("鳥取市", "680"), ("米子市", "683"), ("倉吉市", "682")),
    "32": (("松江市", "690"), ("出雲市", "693"), ("浜田市", "697")),
    "33": (("岡山市北区", "700"), ("倉敷市", "710"), ("津山市", "708")),
    "34": (("広島市中区", "730"), ("福山市", "720"), ("呉市", "737")),
    "35": (("山口市", "753"), ("下関市", "750"), ("宇部市", "755")),
    "36": (("徳島市", "770"), ("阿南市", "774"), ("鳴門市", "772")),
    "37": (("高松市", "760"), ("丸亀市", "763"), ("三豊市", "767")),
    "38": (("松山市", "790"), ("今治市", "794"), ("新居浜市", "792")),
    "39": (("高知市", "780"), ("南国市", "783"), ("四万十市", "787")),
    "40": (("福岡市中央区", "810"), ("北九州市小倉北区", "802"), ("久留米市", "830")),
    "41": (("佐賀市", "840"), ("唐津市", "847"), ("鳥栖市", "841")),
    "42": (("長崎市", "850"), ("佐世保市", "857"), ("諫早市", "854")),
    "43": (("熊本市中央区", "860"), ("八代市", "866"), ("天草市", "863")),
    "44": (("大分市", "870"), ("別府市", "874"), ("中津市", "871")),
    "45": (("宮崎市", "880"), ("都城市", "885"), ("延岡市", "882")),
    "46": (("鹿児島市", "890"), ("霧島市", "899"), ("鹿屋市", "893")),
    "47": (("那覇市", "900"), ("沖縄市", "904"), ("うるま市", "904")),
}

# Synthetic town names (common Japanese place-name patterns).
TOWNS = (
    "本町",
    "栄町",
    "緑町",
    "旭町",
    "中央",
    "東町",
    "西町",
    "南町",
    "北町",
    "若葉",
    "桜台",
    "昭和町",
    "大手町",
    "新町",
    "幸町",
    "末広町",
    "宮前",
    "松原",
    "青葉台",
    "清水",
    "川端",
    "城山",
    "日の出町",
    "富士見",
    "山手",
    "港町",
    "錦町",
    "寿町",
    "泉町",
    "春日",
)
BUILDINGS = ("ハイツ", "コーポ", "レジデンス", "メゾン", "パレス", "荘", "ハイム", "コート")

_FULL_WIDTH_DIGITS = str.maketrans("0123456789-", "０１２３４５６７８９－")
_KANJI_DIGITS = "〇一二三四五六七八九"


@dataclass(frozen=True, slots=True)
class Address:
    """One dwelling: the canonical parts; rendered in several notations (see ``render``)."""

    prefecture_name: str
    municipality: str
    town: str
    chome: int
    ban: int
    go: int
    building: str | None
    postal_code: str

    def render(self, notation: str = "hyphen") -> str:
        """``hyphen`` 1-2-3 (default), ``kanji_units`` 1丁目2番地3号, ``full_width`` １－２－３,
        ``kanji_numerals`` 一丁目2番3号 — the notation variants the 5-item check must tolerate."""
        if notation == "kanji_units":
            block = f"{self.chome}丁目{self.ban}番地{self.go}号"
        elif notation == "full_width":
            block = f"{self.chome}-{self.ban}-{self.go}".translate(_FULL_WIDTH_DIGITS)
        elif notation == "kanji_numerals":
            block = f"{_kanji_number(self.chome)}丁目{self.ban}番{self.go}号"
        else:
            block = f"{self.chome}-{self.ban}-{self.go}"
        suffix = f" {self.building}" if self.building else ""
        return f"{self.prefecture_name}{self.municipality}{self.town}{block}{suffix}"


ADDRESS_NOTATIONS = ("kanji_units", "full_width", "kanji_numerals")


def _kanji_number(value: int) -> str:
    if value < 10:
        return _KANJI_DIGITS[value]
    tens, ones = divmod(value, 10)
    head = "" if tens == 1 else _KANJI_DIGITS[tens]
    return f"{head}十{_KANJI_DIGITS[ones] if ones else ''}"


def random_address(
    rng: random.Random, prefecture_code: str, prefecture_name: str, municipality_index: int
) -> Address:
    municipalities = MUNICIPALITIES[prefecture_code]
    municipality, prefix = municipalities[municipality_index % len(municipalities)]
    building = None
    if rng.random() < 0.35:
        room = f"{rng.randint(1, 12)}0{rng.randint(1, 9)}"
        building = f"{rng.choice(TOWNS[:12])}{rng.choice(BUILDINGS)}{room}"
    return Address(
        prefecture_name=prefecture_name,
        municipality=municipality,
        town=rng.choice(TOWNS),
        chome=rng.randint(1, 6),
        ban=rng.randint(1, 30),
        go=rng.randint(1, 25),
        building=building,
        postal_code=f"{prefix}{rng.randint(0, 9999):04d}",
    )


def pick_municipality(rng: random.Random, prefecture_code: str) -> int:
    """The capital is the most likely home (population weight 3:2:1:1…)."""
    count = len(MUNICIPALITIES[prefecture_code])
    weights = [3, 2, *([1] * (count - 2))]
    return rng.choices(range(count), weights=weights)[0]
