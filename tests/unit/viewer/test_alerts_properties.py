"""Properties of the alerts over generated drug histories: the order of the records does not
matter, every alert names two overlapping records that qualify, and every qualifying
overlapping pair is reported (in its group)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from onshi.reference.drugs import contraindication, ingredient_of
from onshi.viewer.alerts import RECENT_DAYS, AlertKind, alerts_for

TODAY = date(2026, 4, 1)
CODES = ("2189011F1041", "6290004M1029", "2189017F1022", "1190023F1024", "6149003F2046",
         "9999999F1011")  # fmt: skip
PRESCRIBERS = ("A内科", "B医院", "C病院")


@dataclass(frozen=True)
class Row:
    id: int
    drug_code: str
    dispensed_on: date
    days: int | None
    institution_name: str
    drug_name: str = "薬"


rows = st.lists(
    st.tuples(
        st.sampled_from(CODES),
        st.integers(min_value=0, max_value=160),
        st.one_of(st.none(), st.integers(min_value=1, max_value=60)),
        st.sampled_from(PRESCRIBERS),
    ),
    max_size=12,
).map(
    lambda items: [
        Row(n, code, TODAY - timedelta(days=ago), days, where)
        for n, (code, ago, days, where) in enumerate(items, start=1)
    ]
)


def _key(row: Row) -> str:
    ingredient = ingredient_of(row.drug_code)
    return ingredient.name if ingredient else row.drug_code[:7]


def _span(row: Row) -> tuple[date, date]:
    return row.dispensed_on, row.dispensed_on + timedelta(days=row.days or 1)


def _overlap(a: Row, b: Row) -> bool:
    (a0, a1), (b0, b1) = _span(a), _span(b)
    return max(a0, b0) < min(a1, b1)


def _recent(row: Row) -> bool:
    return _span(row)[1] > TODAY - timedelta(days=RECENT_DAYS) and row.dispensed_on <= TODAY


@settings(max_examples=300, deadline=None)
@given(rows, st.randoms(use_true_random=False))
def test_alerts_are_sound_complete_and_order_free(history: list[Row], rnd: object) -> None:
    alerts = alerts_for(history, today=TODAY)
    shuffled = list(history)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert alerts_for(shuffled, today=TODAY) == alerts
    by_id = {row.id: row for row in history}
    groups = set()
    for alert in alerts:
        a, b = by_id[alert.first.record_id], by_id[alert.second.record_id]
        assert _overlap(a, b)
        assert _recent(a)
        assert _recent(b)
        if alert.kind is AlertKind.DUPLICATE:
            assert _key(a) == _key(b)
            assert a.institution_name != b.institution_name
            groups.add((alert.kind, _key(a), frozenset((a.institution_name, b.institution_name))))
        else:
            assert contraindication(_key(a), _key(b)) is not None
            groups.add((alert.kind, frozenset((_key(a), _key(b)))))
    assert len(groups) == len(alerts)  # one alert per group
    recent = [row for row in history if _recent(row)]
    for i, a in enumerate(recent):
        for b in recent[i + 1 :]:
            if not _overlap(a, b):
                continue
            if _key(a) == _key(b) and a.institution_name != b.institution_name:
                key = frozenset((a.institution_name, b.institution_name))
                assert (AlertKind.DUPLICATE, _key(a), key) in groups
            elif _key(a) != _key(b) and contraindication(_key(a), _key(b)):
                assert (AlertKind.CONTRAINDICATED, frozenset((_key(a), _key(b)))) in groups
