"""Every error code is reachable, registered, and has Japanese and English text."""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

from onshi import identifiers
from onshi.errors import DomainError
from onshi.identifiers import (
    ERROR_CODES,
    IdentifierError,
    messages,
    normalize_branch,
    normalize_number,
    normalize_symbol,
    parse_elderly_insured_number,
    parse_institution_code,
    parse_insurer_number,
    parse_my_number,
    parse_public_payer_number,
    parse_recipient_number,
    render,
)

PACKAGE_DIR = Path(identifiers.__file__).parent

# One input per error code.
PRODUCERS: list[tuple[Callable[[str], object], str, str]] = [
    (parse_insurer_number, "", "insurer_number.required"),
    (parse_insurer_number, "0113O012", "insurer_number.characters"),
    (parse_insurer_number, "0113001", "insurer_number.length"),
    (parse_insurer_number, "99130012", "insurer_number.houbetsu"),
    (parse_insurer_number, "01990012", "insurer_number.prefecture"),
    (parse_insurer_number, "01130019", "insurer_number.check_digit"),
    (parse_insurer_number, "77777777", "insurer_number.unknown_not_allowed"),
    (parse_institution_code, " ", "institution_code.required"),
    (parse_institution_code, "01101137l9", "institution_code.characters"),
    (parse_institution_code, "01101137190", "institution_code.length"),
    (parse_institution_code, "0010113719", "institution_code.prefecture"),
    (parse_institution_code, "0150113719", "institution_code.score_table"),
    (parse_institution_code, "0110113710", "institution_code.check_digit"),
    (parse_public_payer_number, "", "public_payer_number.required"),
    (parse_public_payer_number, "8O137151", "public_payer_number.characters"),
    (parse_public_payer_number, "801371511", "public_payer_number.length"),
    (parse_public_payer_number, "80007151", "public_payer_number.prefecture"),
    (parse_public_payer_number, "80137150", "public_payer_number.check_digit"),
    (parse_recipient_number, "", "recipient_number.required"),
    (parse_recipient_number, "12345６x", "recipient_number.characters"),
    (parse_recipient_number, "123456", "recipient_number.length"),
    (parse_recipient_number, "1234560", "recipient_number.check_digit"),
    (parse_elderly_insured_number, "", "elderly_insured_number.required"),
    (parse_elderly_insured_number, "abc", "elderly_insured_number.characters"),
    (parse_elderly_insured_number, "123", "elderly_insured_number.length"),
    (parse_my_number, "", "my_number.required"),
    (parse_my_number, "+81", "my_number.characters"),
    (parse_my_number, "1234", "my_number.length"),
    (parse_my_number, "123456789010", "my_number.check_digit"),
    (normalize_symbol, "A.B", "symbol.characters"),
    (normalize_symbol, "Z" * 40, "symbol.length"),
    (normalize_number, "", "number.required"),
    (normalize_number, "1_2", "number.characters"),
    (normalize_number, "番" * 20, "number.length"),
    (normalize_branch, "1", "branch.format"),
    (partial(parse_insurer_number, allow_unknown=True), "77777778", "insurer_number.houbetsu"),
]


@pytest.mark.parametrize(("parse", "raw", "code"), PRODUCERS)
def test_input_produces_code(parse: Callable[[str], object], raw: str, code: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        parse(raw)
    error = caught.value
    assert error.code == code
    assert isinstance(error, DomainError)
    assert error.status_code == 400
    assert set(error.params) == {"field", "expected", "got"}
    assert code.startswith(error.params["field"] + ".")
    assert all(isinstance(value, str) for value in error.params.values())


def test_every_registered_code_is_produced_by_some_input() -> None:
    assert {code for _, _, code in PRODUCERS} == ERROR_CODES


def _codes_in_source() -> set[str]:
    """String literals and f-string templates that look like identifier error codes."""
    found: set[str] = set()
    fields = {code.split(".")[0] for code in ERROR_CODES}
    for path in PACKAGE_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "IdentifierError":
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.add(first.value)
                elif isinstance(first, ast.JoinedStr):
                    # f"{field}.rule": expand over every field that has that rule
                    tail = "".join(
                        part.value
                        for part in first.values
                        if isinstance(part, ast.Constant) and isinstance(part.value, str)
                    )
                    found.update(f + tail for f in fields if f + tail in ERROR_CODES)
                    assert any(f + tail in ERROR_CODES for f in fields), tail
                else:
                    pytest.fail(f"{path.name}: IdentifierError code is not a literal")
    return found


def test_codes_raised_in_source_are_registered() -> None:
    raised = _codes_in_source()
    assert raised
    assert raised <= ERROR_CODES


def test_unregistered_code_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unregistered"):
        IdentifierError("insurer_number.nonsense", field="insurer_number", expected="", got="")


@pytest.mark.parametrize("language", ["ja", "en"])
def test_every_code_has_a_message(language: str) -> None:
    catalogue = messages()[language]
    assert set(catalogue) == ERROR_CODES
    for code, text in catalogue.items():
        assert text.strip(), code
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name}
        assert names <= {"field", "expected", "got"}, code


def test_japanese_messages_are_japanese() -> None:
    for code, text in messages()["ja"].items():
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", text), code


@pytest.mark.parametrize(("parse", "raw", "code"), PRODUCERS)
def test_messages_render_with_the_error_params(
    parse: Callable[[str], object], raw: str, code: str
) -> None:
    with pytest.raises(IdentifierError) as caught:
        parse(raw)
    for language in ("ja", "en"):
        text = render(caught.value.code, language, **caught.value.params)
        assert "{" not in text


def test_check_digit_message_names_the_expected_digit() -> None:
    with pytest.raises(IdentifierError) as caught:
        parse_insurer_number("01130019")
    params = caught.value.params
    assert "期待値 2" in render(caught.value.code, "ja", **params)
    assert "expected 2" in render(caught.value.code, "en", **params)


def test_package_has_no_web_imports() -> None:
    for path in PACKAGE_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            for module in modules:
                assert module.split(".")[0] not in {"litestar", "jinja2"}, path.name
                assert not module.startswith("onshi.web"), path.name
