"""Helpers for driving the web app in integration tests."""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

_CSRF_INPUT = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def csrf_from(html: str) -> str:
    match = _CSRF_INPUT.search(html)
    assert match is not None, "no CSRF field on the page"
    return match.group(1)


def sign_in(
    client: TestClient[Litestar], login_id: str, password: str, audience: str = "clinic"
) -> Any:
    form = client.get(f"/{audience}/sign-in")
    return client.post(
        f"/{audience}/sign-in",
        data={"login_id": login_id, "password": password, "csrf_token": csrf_from(form.text)},
        follow_redirects=False,
    )
