"""Every page links an icon that exists, and the conventional /favicon.ico is not a 404."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient


def test_favicon(client: TestClient[Litestar]) -> None:
    home = client.get("/")
    assert '<link rel="icon" href="/static/favicon.svg"' in home.text
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    legacy = client.get("/favicon.ico", follow_redirects=False)
    assert legacy.status_code == 301
    assert legacy.headers["location"] == "/static/favicon.svg"
