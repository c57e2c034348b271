"""The 災害時 identity search's matching rules (pure parts)."""

from __future__ import annotations

import pytest

from onshi.viewer.disaster_search import _address_matches, check_identity


@pytest.mark.parametrize(
    ("typed", "registered", "expected"),
    [
        ("東京都千代田区千代田1-5", "東京都千代田区千代田1-5", True),
        ("東京都千代田区千代田一丁目5番", "東京都千代田区千代田1-5", True),  # notation
        ("東京都千代田区千代田", "東京都千代田区千代田1-5", True),  # the beginning
        ("東京都千代田区千代田1", "東京都千代田区千代田1-5", True),
        ("東京都千代田区千代田1", "東京都千代田区千代田12-5", False),  # never cut a number
        ("東京都千代田区霞が丘", "東京都千代田区霞が関1-1", False),
        ("東京都港区", "東京都千代田区千代田1-5", False),
        ("東京都千代田区千代田1-5", None, False),
    ],
)
def test_address_matching(typed: str, registered: str | None, expected: bool) -> None:
    assert _address_matches(typed, registered) is expected


def test_identity_fields_are_checked_each_on_its_own() -> None:
    query, problems = check_identity({"birth_date": "x", "address": "東京"})
    assert query is None
    assert set(problems) == {"kanji_name", "address", "birth_date"}
    assert problems["address"].code == "disaster.search.address_short"
    query, problems = check_identity(
        {"kana_name": "ヤマダ タロウ", "birth_date": "19800517", "address": "東京都千代田区"}
    )
    assert problems == {}
    assert query is not None
    assert query.birth_date.isoformat() == "1980-05-17"
