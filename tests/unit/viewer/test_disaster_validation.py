"""災害時 declaration forms: each bad field its own error, good values normalised (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from onshi.clock import JST
from onshi.viewer.disaster import DeclarationForm, check_declaration
from tests.factories import NOW


def _jst(moment: datetime) -> str:
    return moment.astimezone(JST).strftime("%Y-%m-%dT%H:%M")


def _form(**overrides: object) -> DeclarationForm:
    values: dict[str, object] = {
        "prefectures": ("13", "14"),
        "title": "テスト地震",
        "reason": "震度6強",
        "starts_at": "",
        "ends_at": _jst(NOW + timedelta(days=7)),
    }
    values.update(overrides)
    return DeclarationForm(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"prefectures": ()}, "prefectures", "disaster.prefectures.required"),
        ({"prefectures": ("", " ")}, "prefectures", "disaster.prefectures.required"),
        ({"prefectures": ("13", "48")}, "prefectures", "disaster.prefectures.unknown"),
        ({"prefectures": ("00",)}, "prefectures", "disaster.prefectures.unknown"),
        ({"prefectures": ("1",)}, "prefectures", "disaster.prefectures.unknown"),
        ({"title": "  "}, "title", "disaster.title.required"),
        ({"title": "あ" * 101}, "title", "disaster.title.too_long"),
        ({"reason": "x" * 1001}, "reason", "disaster.reason.too_long"),
        ({"starts_at": "2026/04/01"}, "starts_at", "disaster.starts_at.format"),
        ({"starts_at": _jst(NOW - timedelta(hours=1))}, "starts_at", "disaster.starts_at.past"),
        ({"starts_at": _jst(NOW + timedelta(days=31))}, "starts_at", "disaster.starts_at.too_far"),
        ({"ends_at": "tomorrow"}, "ends_at", "disaster.ends_at.format"),
        ({"ends_at": _jst(NOW)}, "ends_at", "disaster.ends_at.before_start"),
        ({"ends_at": _jst(NOW - timedelta(days=1))}, "ends_at", "disaster.ends_at.before_start"),
        ({"ends_at": _jst(NOW + timedelta(days=367))}, "ends_at", "disaster.ends_at.too_long"),
    ],
)
def test_each_bad_field_has_its_own_error(
    overrides: dict[str, object], field: str, code: str
) -> None:
    checked, problems = check_declaration(_form(**overrides), now=NOW)
    assert checked is None
    assert set(problems) == {field}
    assert problems[field].code == code


def test_a_good_form_is_normalised() -> None:
    checked, problems = check_declaration(
        _form(prefectures=("14", "13", "14"), title="  テスト  地震 ", ends_at=""), now=NOW
    )
    assert problems == {}
    assert checked is not None
    assert checked.prefectures == ("13", "14")
    assert checked.title == "テスト 地震"
    assert checked.starts_at == NOW  # blank start: now
    assert checked.ends_at is None  # blank end: open-ended


def test_the_current_minute_is_now_not_the_past() -> None:
    now = NOW + timedelta(seconds=40)
    checked, problems = check_declaration(_form(starts_at=_jst(NOW)), now=now)
    assert problems == {}
    assert checked is not None
    assert checked.starts_at == now


def test_the_end_is_checked_against_a_future_start() -> None:
    start = NOW + timedelta(days=2)
    _, problems = check_declaration(
        _form(starts_at=_jst(start), ends_at=_jst(NOW + timedelta(days=1))), now=NOW
    )
    assert problems["ends_at"].code == "disaster.ends_at.before_start"
