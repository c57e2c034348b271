"""The registration message catalogue (``messages.toml``) and the rendering of a row's result
message in Japanese and English (identifier codes fall back to :mod:`onshi.identifiers`)."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from functools import cache, lru_cache
from importlib import resources
from types import MappingProxyType

from onshi.identifiers import messages as identifier_messages
from onshi.registration.matching import Item, Verdict

LANGUAGES = ("ja", "en")


@cache
def messages() -> Mapping[str, Mapping[str, str]]:
    raw = tomllib.loads(
        resources.files("onshi.registration").joinpath("messages.toml").read_text("utf-8")
    )
    return MappingProxyType(
        {
            lang: MappingProxyType({str(k): str(v) for k, v in raw[lang].items()})
            for lang in LANGUAGES
        }
    )


def _text(code: str, language: str) -> str:
    own = messages()[language]
    if code in own:
        return own[code]
    if f"registration.reason.{code}" in own:
        return own[f"registration.reason.{code}"]
    return identifier_messages()[language].get(code, code)


def render(code: str, language: str, params: Mapping[str, str] | None = None) -> str:
    """``code`` in ``language``; a ``field`` parameter naming a column is shown by its label."""
    values = dict(params or {})
    if "field" in values:
        values["field"] = messages()[language].get(
            f"registration.column.{values['field']}", values["field"]
        )
    try:
        return _text(code, language).format(**values)
    except (KeyError, IndexError):
        return _text(code, language)


def bilingual(code: str, params: Mapping[str, str] | None = None) -> str:
    """The Japanese and the English text, as the per-row result file carries them."""
    if not params:
        return _bilingual(code)
    return f"{render(code, 'ja', params)} / {render(code, 'en', params)}"


@lru_cache(maxsize=256)
def _bilingual(code: str) -> str:
    return f"{render(code, 'ja')} / {render(code, 'en')}"


def _joined(names: Sequence[str], prefix: str, language: str) -> str:
    table = messages()[language]
    return table["registration.separator"].join(
        table[f"registration.{prefix}.{name}"] for name in names
    )


def verdict_params(verdict: Verdict, language: str) -> dict[str, str]:
    """``items`` (the differing items) and ``variations`` (item: variation) in ``language``."""
    return _params(verdict.differing, verdict.variations, language)


def _params(
    differing: Sequence[Item], variations: Sequence[tuple[Item, str]], language: str
) -> dict[str, str]:
    table = messages()[language]
    listed = [
        f"{table[f'registration.item.{item.value}']}: {table[f'registration.variation.{name}']}"
        for item, name in variations
    ]
    return {
        "items": _joined([item.value for item in differing], "item", language),
        "variations": table["registration.separator"].join(listed),
    }


@lru_cache(maxsize=4096)
def _verdict_text(
    reason_code: str, differing: tuple[Item, ...], variations: tuple[tuple[Item, str], ...]
) -> str:
    return " / ".join(
        _text(reason_code, lang).format(**_params(differing, variations, lang))
        for lang in LANGUAGES
    )


def verdict_message(verdict: Verdict) -> str:
    """The row's message for ``verdict`` (one text per reason, items and variations: cached,
    a million rows have few distinct messages)."""
    return _verdict_text(verdict.reason_code, verdict.differing, verdict.variations)


def items_message(code: str, items: Sequence[Item]) -> str:
    return " / ".join(
        _text(code, lang).format(items=_joined([i.value for i in items], "item", lang))
        for lang in LANGUAGES
    )
