"""The identifier message catalogue (``messages.toml``), for the web layer to merge."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from types import MappingProxyType

LANGUAGES = ("ja", "en")


@cache
def messages() -> Mapping[str, Mapping[str, str]]:
    """``{"ja": {code: text}, "en": {code: text}}``; texts use ``{field}``, ``{expected}``,
    ``{got}`` placeholders (``str.format``)."""
    raw = tomllib.loads(
        resources.files("onshi.identifiers").joinpath("messages.toml").read_text(encoding="utf-8")
    )
    return MappingProxyType(
        {
            lang: MappingProxyType({str(k): str(v) for k, v in raw[lang].items()})
            for lang in LANGUAGES
        }
    )


def render(code: str, language: str, **params: str) -> str:
    """The text of ``code`` in ``language`` with its parameters filled in."""
    return messages()[language][code].format(**params)
