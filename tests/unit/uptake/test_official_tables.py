"""`--source official` reproduces the published tables exactly; the open-data formats (exact
columns, formula neutralisation, JSON metadata); the generated use model hits May 2023."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal

import pytest

from onshi import reference
from onshi.cli import main
from onshi.seeding import usage_model
from onshi.uptake import official
from onshi.uptake.export import to_csv, to_json
from onshi.uptake.tables import (
    NATIONAL_COLUMNS,
    PREFECTURE_COLUMNS,
    RANKING_COLUMNS,
    Table,
    UptakeError,
)
from onshi.web.admin.charts import TILES, scale_bins

DAY = date(2023, 6, 18)


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_national_rates_are_the_published_ones() -> None:
    rows = {r["type"]: r for r in _rows(to_csv(official.national(DAY)))}
    assert rows["hospital"]["operating_rate_all"] == "87.9"
    assert rows["medical_clinic"]["operating_rate_all"] == "72.2"
    for item in reference.national_uptake():
        for column in NATIONAL_COLUMNS[5:]:
            assert rows[item.type][column] == str(getattr(item, column)), (item.type, column)
        assert rows[item.type]["facilities"] == str(item.facilities)
    assert rows["total"]["operating"] == "176826"
    assert rows["pharmacy"]["applied"] == ""  # not published as a count: left blank


def test_rankings_are_the_reference_file() -> None:
    table = official.rankings(DAY)
    got = [(r["type"], r["rank"], r["prefecture"], r["value"]) for r in _rows(to_csv(table))]
    expected = [
        (r.type, str(r.rank), r.prefecture, str(r.operating_rate))
        for r in reference.operating_rate_rankings()
    ]
    assert got == expected
    assert {r["measure"] for r in table.rows} == {"operating_rate_all"}


def test_prefecture_table_copies_the_published_cells() -> None:
    rows = _rows(to_csv(official.prefecture(DAY)))
    tokyo = next(r for r in rows if r["prefecture"] == "東京" and r["type"] == "hospital")
    assert (tokyo["facilities"], tokyo["operating"], tokyo["operating_rate_all"]) == (
        "636", "507", "79.7",
    )  # fmt: skip
    shizuoka = next(r for r in rows if r["prefecture"] == "静岡" and r["type"] == "medical_clinic")
    assert shizuoka["applied"] == ""  # blank in the source stays blank
    assert {r["type"] for r in rows} == {"hospital", "medical_clinic", "dental_clinic"}


def test_exact_columns_and_json_metadata() -> None:
    assert to_csv(official.national(DAY)).splitlines()[0] == ",".join(NATIONAL_COLUMNS)
    assert to_csv(official.prefecture(DAY)).splitlines()[0] == ",".join(PREFECTURE_COLUMNS)
    assert to_csv(official.rankings(DAY)).splitlines()[0] == ",".join(RANKING_COLUMNS)
    document = json.loads(to_json(official.national(DAY)))
    assert document["source"] == "official"
    assert document["as_of"] == "2023-06-18"
    assert "導入状況" in document["title"]
    assert set(document["definitions"]) == set(NATIONAL_COLUMNS)
    assert document["rows"][0]["operating_rate_all"] == 87.9


@pytest.mark.parametrize("cell", ["=1+1", "+SUM(A1)", "-2", "@x", "\tx", "\rx"])
def test_formula_cells_are_neutralised(cell: str) -> None:
    table = Table("rankings", "system", DAY, DAY, "t", RANKING_COLUMNS, [{"prefecture": cell}])
    line = list(csv.reader(io.StringIO(to_csv(table))))[1]
    assert line[3] == "'" + cell
    numbers = Table("rankings", "system", DAY, DAY, "t", RANKING_COLUMNS, [{"rank": -1}])
    assert list(csv.reader(io.StringIO(to_csv(numbers))))[1][2] == "-1"


def test_no_figures_before_the_first_publication() -> None:
    with pytest.raises(UptakeError) as raised:
        official.national(date(2019, 1, 1))
    assert raised.value.code == "uptake.no_official"
    assert official.national(date(2021, 4, 1)).as_of == date(2021, 3, 21)


def test_cli_export_official(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["uptake", "export", "--as-of", "2023-06-18", "--source", "official"]
    assert main([*args, "--table", "national", "--format", "csv"]) == 0
    assert "hospital,8170,8045,7514,7178,98.5,98.7,92.0,92.2,87.9,88.0" in capsys.readouterr().out
    assert main([*args, "--table", "national", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["table"] == "national"


def test_cli_bad_date_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["uptake", "export", "--as-of", "2023-02-30", "--source", "official",
              "--table", "national"])  # fmt: skip
    err = capsys.readouterr().err
    assert "YYYY-MM-DD" in err
    assert "日付" in err


def test_generated_may_2023_mix_is_the_published_one() -> None:
    assert usage_model.volume_ratio(date(2023, 5, 1)) == 1.0
    assert usage_model.card_share_factor(date(2023, 5, 1)) == 1.0
    shares = {k: usage_model.card_share(k, date(2023, 5, 1)) for k in usage_model.TYPES}
    card = sum(usage_model.mix()[k].checks * shares[k] for k in shares)
    total = sum(usage_model.mix()[k].checks for k in shares)
    assert card / total == pytest.approx(8_532_019 / 141_999_941)
    assert usage_model.volume_ratio(date(2021, 9, 1)) == 0.0


def test_tile_map_layout_and_scale() -> None:
    assert len(TILES) == 47
    assert len(set(TILES.values())) == 47
    bins = scale_bins([Decimal("58.3"), Decimal("98.3")])
    assert bins[0].low == Decimal(58)
    assert bins[-1].high == Decimal(99)
    assert scale_bins([Decimal(100), Decimal(100)])[-1].high == Decimal(100)
