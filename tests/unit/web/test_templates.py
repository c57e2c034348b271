"""Every template renders in both languages with a minimal context, and every literal message
key used in a template exists in the catalogue.

A template that needs data gets a small sample context from ``samples/<area>.py`` (keep them
minimal: the point is that the template has no typo'd variables, filters or message keys)."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest
from jinja2 import Environment

from onshi.web.i18n import Catalogue
from onshi.web.rendering import TEMPLATES_DIR, build_template_environment

from .samples import all_samples
from .samples.staff import CLINIC, INSTITUTION, STAFF

SAMPLES = all_samples()

CATALOGUE = Catalogue.discover()
TEMPLATES = sorted(
    path.relative_to(TEMPLATES_DIR).as_posix() for path in TEMPLATES_DIR.rglob("*.html")
)


@pytest.fixture(scope="module")
def env() -> Environment:
    return build_template_environment(CATALOGUE)


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("name", TEMPLATES)
def test_template_renders(env: Environment, name: str, lang: str) -> None:
    context: dict[str, Any] = {
        "lang": lang,
        "principal": None,
        "csrf_token": "0" * 64,
        "current_path": "/",
    }
    context.update(SAMPLES.get(name, {}))
    html = env.get_template(name).render(context)
    if name.startswith(("pages/", "errors/")) or name == "base.html":
        assert f'<html lang="{lang}">' in html


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_signed_in_header_shows_the_role_and_sign_out_form(env: Environment, lang: str) -> None:
    context = {"lang": lang, "principal": STAFF, "csrf_token": "abc", "current_path": "/clinic"}
    context.update(CLINIC)
    html = env.get_template("pages/clinic/landing.html").render(context)
    assert CATALOGUE.translate(lang, "label.role.reception") in html  # type: ignore[arg-type]
    assert 'action="/sign-out"' in html
    assert 'name="csrf_token" value="abc"' in html
    assert 'aria-current="page"' in html


def test_empty_lists_show_an_empty_state(env: Environment) -> None:
    context = {"lang": "en", "principal": None, "csrf_token": "x", "current_path": "/"}
    context.update({**CLINIC, "events": [], "devices": [], "valid_consents": None})
    html = env.get_template("pages/clinic/landing.html").render(context)
    assert CATALOGUE.translate("en", "clinic.recent_empty") in html
    assert CATALOGUE.translate("en", "clinic.devices_empty") in html
    assert CATALOGUE.translate("en", "clinic.consents_heading") not in html


def test_user_data_is_escaped(env: Environment) -> None:
    hostile = SimpleNamespace(**{**vars(INSTITUTION), "name": "<script>alert(1)</script>"})
    context = {"lang": "ja", "principal": None, "csrf_token": "x", "current_path": "/"}
    context.update({**CLINIC, "institution": hostile})
    html = env.get_template("pages/clinic/landing.html").render(context)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


_LITERAL_KEY = re.compile(r"""\bt\(\s*["']([A-Za-z0-9_.]+)["']\s*[,)]""")


def test_every_literal_message_key_exists() -> None:
    missing = []
    for path in TEMPLATES_DIR.rglob("*.html"):
        for key in _LITERAL_KEY.findall(path.read_text(encoding="utf-8")):
            if not CATALOGUE.has(key, "ja") or not CATALOGUE.has(key, "en"):
                missing.append(f"{path.relative_to(TEMPLATES_DIR)}: {key}")
    assert missing == []
