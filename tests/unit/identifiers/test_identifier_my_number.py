"""個人番号: check digit, masking and keyed hashing."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from onshi.identifiers import IdentifierError, MyNumber, my_number_hash, parse_my_number

VALID = "123456789018"
KEY = "test-key-0123456789abcdef"


@pytest.mark.parametrize(
    "raw", [VALID, "1234 5678 9018", "１２３４－５６７８－９０１８", "1234　5678　9018"]
)
def test_parse_normalises(raw: str) -> None:
    assert parse_my_number(raw).value == VALID


def test_repr_never_shows_the_number() -> None:
    parsed = parse_my_number(VALID)
    assert VALID not in repr(parsed)
    assert VALID not in str(parsed)


@pytest.mark.parametrize(
    ("raw", "code", "got"),
    [
        ("", "my_number.required", ""),
        ("12345678901O", "my_number.characters", "O"),
        ("12345678901", "my_number.length", "11"),
        ("1234567890180", "my_number.length", "13"),
        ("123456789017", "my_number.check_digit", "7"),
    ],
)
def test_errors_never_echo_the_number(raw: str, code: str, got: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        parse_my_number(raw)
    assert caught.value.code == code
    assert caught.value.params["got"] == got
    if raw:
        assert raw[:8] not in str(caught.value)
        assert raw[:8] not in repr(caught.value.params)


def test_hash_is_hmac_sha256_hex_of_the_normalised_number() -> None:
    expected = hmac.new(KEY.encode(), VALID.encode(), hashlib.sha256).hexdigest()
    assert my_number_hash(KEY, VALID) == expected
    assert my_number_hash(KEY, "１２３４ ５６７８ ９０１８") == expected
    assert my_number_hash(KEY.encode(), VALID) == expected
    assert MyNumber(VALID).hash(KEY) == expected
    assert len(expected) == 64
    assert VALID not in expected


def test_hash_depends_on_the_key() -> None:
    assert my_number_hash(KEY, VALID) != my_number_hash(KEY + "x", VALID)


def test_hash_checks_the_number_first() -> None:
    with pytest.raises(IdentifierError) as caught:
        my_number_hash(KEY, "123456789017")
    assert caught.value.code == "my_number.check_digit"


@pytest.mark.parametrize("key", ["", b""])
def test_hash_refuses_an_empty_key(key: str | bytes) -> None:
    with pytest.raises(ValueError, match="key"):
        my_number_hash(key, VALID)
