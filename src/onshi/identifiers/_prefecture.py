"""Prefecture-code check shared by the numbers that embed one."""

from __future__ import annotations

from onshi import reference
from onshi.identifiers.errors import IdentifierError


def check_prefecture(code: str, field: str) -> None:
    """Raise ``<field>.prefecture`` unless ``code`` is one of the 47 JIS codes (01–47)."""
    if reference.prefecture(code) is None:
        raise IdentifierError(f"{field}.prefecture", field=field, expected="01-47", got=code)
