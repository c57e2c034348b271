"""page_or_fragment: the full page normally, the fragment for htmx, Vary always."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar, Request, get
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template.config import TemplateConfig
from litestar.testing import TestClient

from onshi.web.htmx import add_vary, is_htmx, page_or_fragment, wants_fragment
from onshi.web.i18n import Catalogue
from onshi.web.rendering import build_template_environment


@get("/thing", sync_to_thread=False)
def thing(request: Request[Any, Any, Any]) -> Template:
    return page_or_fragment(
        request, page="page.html", fragment="_fragment.html", context={"value": "42"}
    )


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient[Litestar]]:
    (tmp_path / "page.html").write_text(
        '<html lang="{{ lang }}"><body>PAGE {% include "_fragment.html" %}</body></html>'
    )
    (tmp_path / "_fragment.html").write_text('<div id="f">{{ value }}</div>')
    env = build_template_environment(Catalogue.load([]), tmp_path)
    app = Litestar(
        route_handlers=[thing],
        template_config=TemplateConfig(engine=JinjaTemplateEngine.from_environment(env)),
    )
    with TestClient(app) as test_client:
        yield test_client


def test_normal_request_gets_the_full_page(client: TestClient[Litestar]) -> None:
    response = client.get("/thing")
    assert response.text == '<html lang="ja"><body>PAGE <div id="f">42</div></body></html>'
    assert response.headers["vary"] == "HX-Request"


def test_htmx_request_gets_only_the_fragment(client: TestClient[Litestar]) -> None:
    response = client.get("/thing", headers={"HX-Request": "true"})
    assert response.text == '<div id="f">42</div>'
    assert response.headers["vary"] == "HX-Request"


def test_boosted_navigation_gets_the_full_page(client: TestClient[Litestar]) -> None:
    response = client.get("/thing", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert response.text.startswith("<html")
    assert response.headers["vary"] == "HX-Request"


def test_add_vary_keeps_existing_values_once() -> None:
    assert add_vary({"Vary": "Accept-Language"}) == {"Vary": "Accept-Language, HX-Request"}
    assert add_vary({"Vary": "hx-request"}) == {"Vary": "hx-request"}
    assert add_vary({}) == {"Vary": "HX-Request"}


def test_header_detection() -> None:
    class Fake:
        def __init__(self, headers: dict[str, str]) -> None:
            self.headers = headers

    assert is_htmx(Fake({"hx-request": "true"}))  # type: ignore[arg-type]
    assert not is_htmx(Fake({}))  # type: ignore[arg-type]
    assert not wants_fragment(Fake({"hx-request": "true", "hx-boosted": "true"}))  # type: ignore[arg-type]
