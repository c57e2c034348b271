"""The message catalogue of the certificate checks (``messages.toml``: ``[ja]`` and ``[en]``)."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

LANGUAGES = ("ja", "en")


@cache
def catalogue() -> dict[str, dict[str, str]]:
    text = resources.files("onshi.pki").joinpath("messages.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    return {language: dict(data[language]) for language in LANGUAGES}


def message(code: str, language: str = "ja", **params: Any) -> str:
    """The text of ``code`` in ``language`` with its ``{param}`` placeholders filled.

    Missing parameters are left as empty strings so an error never breaks its own message.
    """
    table = catalogue()[language if language in LANGUAGES else "ja"]
    template = table[code]
    return template.format_map(_Blank(params))


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""
