"""The message catalogue: both languages complete, lookup rule, merge safety."""

from __future__ import annotations

from pathlib import Path

import pytest

from onshi.web.i18n import Catalogue, CatalogueError, parse_lang, placeholders


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.discover()


def test_ja_and_en_have_identical_keys_and_placeholders(catalogue: Catalogue) -> None:
    assert catalogue.mismatches() == []
    assert set(catalogue.messages["ja"]) == set(catalogue.messages["en"])


def test_catalogue_merges_every_package(catalogue: Catalogue) -> None:
    sources = {path.parent.name for path in catalogue.sources.values()}
    assert {"web", "accounts"} <= sources


def test_no_message_is_empty(catalogue: Catalogue) -> None:
    for lang in ("ja", "en"):
        empty = [key for key, text in catalogue.messages[lang].items() if not text.strip()]
        assert empty == [], lang


def test_translate_fills_placeholders(catalogue: Catalogue) -> None:
    assert (
        catalogue.translate("ja", "clinic.code", code="0110113719") == "医療機関コード 0110113719"
    )
    assert catalogue.translate("en", "clinic.code", code="0110113719") == (
        "Institution code 0110113719"
    )


def test_missing_param_never_shows_a_raw_placeholder(catalogue: Catalogue) -> None:
    assert catalogue.translate("en", "clinic.code") == "Institution code …"
    assert "{code}" not in catalogue.translate("en", "clinic.code", other="x")


def test_unknown_key_shows_the_key(catalogue: Catalogue) -> None:
    assert catalogue.translate("ja", "no.such.key") == "no.such.key"


def test_error_lookup_prefers_the_code_then_error_prefix_then_generic(
    catalogue: Catalogue,
) -> None:
    # 1. the code itself is a message id
    assert catalogue.error_message("en", "accounts.invalid_credentials") == (
        "The login ID or password is incorrect."
    )
    # 2. error.<code>
    assert catalogue.error_message("en", "not_found") == catalogue.translate(
        "en", "error.not_found"
    )
    # 3. generic fallback
    assert catalogue.error_message("ja", "some.unknown_code") == catalogue.translate(
        "ja", "error.generic"
    )


def test_duplicate_key_across_files_is_refused(tmp_path: Path) -> None:
    first = tmp_path / "a" / "messages.toml"
    second = tmp_path / "b" / "messages.toml"
    for path in (first, second):
        path.parent.mkdir()
        path.write_text('[ja]\n"x.y" = "一"\n[en]\n"x.y" = "one"\n', encoding="utf-8")
    with pytest.raises(CatalogueError, match="already defined"):
        Catalogue.discover(tmp_path)


def test_nested_tables_flatten_to_dotted_keys(tmp_path: Path) -> None:
    path = tmp_path / "messages.toml"
    path.write_text('[ja.error]\ncode = "誤り {n}"\n[en.error]\ncode = "wrong {n}"\n', "utf-8")
    catalogue = Catalogue.load([path])
    assert catalogue.translate("en", "error.code", n=3) == "wrong 3"
    assert catalogue.mismatches() == []


def test_mismatched_placeholders_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "messages.toml"
    path.write_text('[ja]\nk = "{a}"\nonly_ja = "x"\n[en]\nk = "{b}"\n', "utf-8")
    problems = Catalogue.load([path]).mismatches()
    assert any("only_ja" in problem for problem in problems)
    assert any(problem.startswith("k: placeholders differ") for problem in problems)


def test_unknown_top_level_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "messages.toml"
    path.write_text('[fr]\nk = "x"\n', "utf-8")
    with pytest.raises(CatalogueError, match="unknown top-level"):
        Catalogue.load([path])


def test_parse_lang() -> None:
    assert parse_lang("EN") == "en"
    assert parse_lang(" ja ") == "ja"
    assert parse_lang("fr") is None
    assert parse_lang(None) is None


def test_placeholders() -> None:
    assert placeholders("{a} and {b:>3} {{literal}}") == {"a", "b"}
