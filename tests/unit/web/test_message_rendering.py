"""Every message of every catalogue renders to finished text: with its parameters, and also where
a screen shows it without them (e.g. an event list that has only the error code). No raw
``{name}`` may ever reach the screen."""

from __future__ import annotations

import re

import pytest

from onshi.web.i18n import LANGUAGES, MISSING_PARAM, Catalogue, placeholders

LEFTOVER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.discover()


def _with_params(catalogue: Catalogue) -> list[tuple[str, str, str]]:
    return [
        (lang, key, text)
        for lang in LANGUAGES
        for key, text in catalogue.messages[lang].items()
        if placeholders(text)
    ]


def test_some_messages_have_parameters(catalogue: Catalogue) -> None:
    assert len(_with_params(catalogue)) > 50
    assert "batch.row.birth_date_future" in {key for _, key, _ in _with_params(catalogue)}


def test_every_message_renders_with_its_parameters(catalogue: Catalogue) -> None:
    leftovers = []
    for lang, key, text in _with_params(catalogue):
        params = {name: f"<{name}>" for name in placeholders(text)}
        rendered = catalogue.translate(lang, key, **params)
        for name in params:
            if f"<{name}>" not in rendered:
                leftovers.append(f"{lang} {key}: {name} not filled: {rendered}")
        if LEFTOVER.search(rendered):
            leftovers.append(f"{lang} {key}: {rendered}")
    assert leftovers == []


def test_no_message_shows_a_raw_placeholder_without_its_parameters(catalogue: Catalogue) -> None:
    leftovers = []
    for lang in LANGUAGES:
        for key in catalogue.messages[lang]:
            for rendered in (
                catalogue.translate(lang, key),
                catalogue.error_message(lang, key),
            ):
                if LEFTOVER.search(rendered):
                    leftovers.append(f"{lang} {key}: {rendered}")
    assert leftovers == []


def test_missing_parameter_is_a_neutral_mark(catalogue: Catalogue) -> None:
    text = catalogue.error_message("ja", "batch.row.birth_date_future")
    assert "{got}" not in text
    assert MISSING_PARAM in text
    partial = catalogue.error_message("ja", "insurer_number.length", expected="8")
    assert "8" in partial
    assert "{" not in partial
