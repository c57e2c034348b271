"""The bulk path stores audit details as the same text as the general path (the canonical copy
through the JSON column's serializer), made in one step for plain details."""

from __future__ import annotations

import json
from typing import Any

import pytest

from onshi.audit.services import _canonical_details, _plain_details_text


@pytest.mark.parametrize(
    "details",
    [
        {},
        {"status": "linked", "qualification_id": 12, "previous_status": None,
         "variations": ["kana_name", "address"], "differences": [], "b": True, "名": "山田"},
        {"z": "ﾔﾏﾀﾞ\u3000太郎", "a": -3, "m": ["●", "x"]},
    ],
)  # fmt: skip
def test_plain_details_are_stored_as_the_general_path_stores_them(details: dict[str, Any]) -> None:
    assert _plain_details_text(details) == json.dumps(_canonical_details(details))


@pytest.mark.parametrize(
    "details",
    [None, {"x": 1.5}, {"x": {"nested": 1}}, {"x": [1, 2]}, {1: "int key"}, {"x": ("a",)}],
)
def test_other_details_take_the_general_path(details: Any) -> None:
    assert _plain_details_text(details) is None
