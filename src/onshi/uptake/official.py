"""The official published figures, straight from the vendored reference tables: nothing is
estimated; a figure the publication does not give stays blank.

Publications (by their public titles):
- 厚生労働省「医療機関・薬局におけるオンライン資格確認の導入状況」(2023-06-18): national rates per
  facility type over all and over 義務化対象 facilities, the prefecture table
  (都道府県別の状況一覧) and the top / bottom 5 prefectures by 運用開始 rate.
- 社会保険診療報酬支払基金「オンライン資格確認の利用状況」(May 2023): checks by card and by
  insurance card, 一括照会 and views per facility type.
- 厚生労働省「オンライン資格確認等システムについて」(2020-11-08 and 2021-03-21): card-reader
  applications per type, the public hospitals by founder, registrations of the card.
"""

from __future__ import annotations

from datetime import date

from onshi import reference
from onshi.uptake.tables import (
    COLUMNS,
    MEASURES,
    NATIONAL_TOTAL,
    STAGES,
    TOTAL,
    TYPES,
    Row,
    Table,
    TableName,
    UptakeError,
    percent,
)

SNAPSHOT = date(2023, 6, 18)
USAGE_MONTH = date(2023, 5, 1)
TITLE_UPTAKE = "厚生労働省「医療機関・薬局におけるオンライン資格確認の導入状況」"
TITLE_USAGE = "社会保険診療報酬支払基金「オンライン資格確認の利用状況」"
TITLE_HISTORY = "厚生労働省「オンライン資格確認等システムについて」"
_STAGE_ATTR = {"applied": "card_reader_applied", "ready": "ready", "operating": "operating"}


def _history_dates() -> list[date]:
    return sorted(
        {p.as_of for p in reference.uptake_history_national() if p.metric == "card_reader_applied"}
    )


def _no_figures(table: str, as_of: date) -> UptakeError:
    return UptakeError("uptake.no_official", table=table, as_of=as_of.isoformat())


def national(as_of: date) -> Table:
    dates = [d for d in _history_dates() if d <= as_of]
    if not dates:
        raise _no_figures("national", as_of)
    published = dates[-1]
    if published == SNAPSHOT:
        rows = _national_snapshot()
        title = TITLE_UPTAKE
    else:
        rows = _national_history(published)
        title = TITLE_HISTORY
    return Table("national", "official", published, as_of, title, COLUMNS["national"], rows)


def _national_snapshot() -> list[Row]:
    counts = {
        row.type: row
        for row in reference.uptake_by_prefecture()
        if row.prefecture == NATIONAL_TOTAL
    }
    totals = {
        p.metric: p.value
        for p in reference.uptake_history_national()
        if p.as_of == SNAPSHOT and p.type == TOTAL
    }
    rows: list[Row] = []
    for item in reference.national_uptake():
        row: Row = {"type": item.type, "facilities": item.facilities}
        for stage in STAGES:
            if item.type == TOTAL:
                row[stage] = totals.get(_STAGE_ATTR[stage])
            else:
                source = counts.get(item.type)
                row[stage] = getattr(source, _STAGE_ATTR[stage]) if source else None
        for measure in MEASURES:
            row[measure] = getattr(item, measure)
        rows.append(row)
    return rows


def _national_history(published: date) -> list[Row]:
    rows: list[Row] = []
    for p in reference.uptake_history_national():
        if p.as_of != published or p.metric != "card_reader_applied":
            continue
        row: Row = dict.fromkeys(COLUMNS["national"])
        row.update(type=p.type, facilities=p.denominator, applied=p.value, applied_rate_all=p.rate)
        rows.append(row)
    order = [*TYPES, TOTAL]
    return sorted(rows, key=lambda r: order.index(str(r["type"])))


def prefecture(as_of: date) -> Table:
    if as_of < SNAPSHOT:
        raise _no_figures("prefecture", as_of)
    by_short = {p.short_name: p for p in reference.prefectures()}
    rows: list[Row] = []
    for kind in TYPES:
        for item in reference.uptake_by_prefecture():
            if item.type != kind or item.prefecture == NATIONAL_TOTAL:
                continue
            row: Row = {"type": kind, "prefecture": item.prefecture, "facilities": item.facilities}
            for stage in STAGES:
                value = getattr(item, _STAGE_ATTR[stage])
                row[stage] = value
                row[f"{stage}_rate_all"] = percent(value, item.facilities)
                row[f"{stage}_rate_mandatory"] = None
            rows.append(row)
        rows.sort(key=lambda r: (TYPES.index(str(r["type"])), by_short[str(r["prefecture"])].code))
    return Table(
        "prefecture", "official", SNAPSHOT, as_of, TITLE_UPTAKE, COLUMNS["prefecture"], rows
    )


def rankings(as_of: date) -> Table:
    if as_of < SNAPSHOT:
        raise _no_figures("rankings", as_of)
    rows: list[Row] = [
        {
            "type": r.type,
            "measure": "operating_rate_all",
            "rank": r.rank,
            "prefecture": r.prefecture,
            "value": r.operating_rate,
        }
        for r in reference.operating_rate_rankings()
    ]
    return Table("rankings", "official", SNAPSHOT, as_of, TITLE_UPTAKE, COLUMNS["rankings"], rows)


def usage(month: date, as_of: date) -> Table:
    if month < USAGE_MONTH:
        raise _no_figures("usage", as_of)
    rows: list[Row] = []
    for u in reference.facility_usage():
        rows.append(
            {
                "type": u.type,
                "prefecture": NATIONAL_TOTAL,
                "month": USAGE_MONTH.strftime("%Y-%m"),
                "checks_total": u.checks_total,
                "checks_by_card": u.checks_by_card,
                "checks_by_insurance_card": u.checks_by_insurance_card,
                "card_share": percent(u.checks_by_card, u.checks_total),
                "batch_inquiries": u.batch_inquiries,
                "views_health_checkup": u.views_health_checkup,
                "views_drug": u.views_drug,
                "views_clinical": u.views_clinical,
            }
        )
    end = date(2023, 5, 31)
    return Table("usage", "official", end, as_of, TITLE_USAGE, COLUMNS["usage"], rows)


def founders(as_of: date) -> Table:
    if as_of < reference.FOUNDER_UPTAKE_DATE:
        raise _no_figures("founders", as_of)
    rows: list[Row] = []
    for f in reference.founder_uptake():
        row: Row = dict.fromkeys(COLUMNS["founders"])
        row.update(founder=f.founder, applied_rate_all=f.applied_rate)
        rows.append(row)
    return Table(
        "founders", "official", reference.FOUNDER_UPTAKE_DATE, as_of, TITLE_HISTORY,
        COLUMNS["founders"], rows,
    )  # fmt: skip


def registrations(as_of: date) -> Table:
    rows: list[Row] = []
    for p in reference.uptake_history_national():
        if p.metric != "insurance_use_registrations" or p.as_of > as_of:
            continue
        rows.append(
            {
                "date": p.as_of,
                "registrations": p.value,
                "cards_issued": p.denominator,
                "rate": p.rate,
            }
        )
    if not rows:
        raise _no_figures("registrations", as_of)
    last = rows[-1]["date"]
    if not isinstance(last, date):  # pragma: no cover - the rows above hold dates
        raise TypeError(last)
    title = TITLE_UPTAKE if last == SNAPSHOT else TITLE_HISTORY
    return Table("registrations", "official", last, as_of, title, COLUMNS["registrations"], rows)


def table(name: TableName, as_of: date, usage_month: date) -> Table:
    if name == "usage":
        return usage(usage_month, as_of)
    builders = {
        "national": national,
        "prefecture": prefecture,
        "rankings": rankings,
        "founders": founders,
        "registrations": registrations,
    }
    return builders[name](as_of)
