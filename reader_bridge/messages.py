"""Patient-facing texts of the kiosk (``messages.toml`` beside this file), Japanese first, with
English. The portal's own error messages (``{"ja", "en"}`` from its error object) are shown as
they come; card errors carry their own texts (`reader_bridge.apdu.CardError`)."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

Text = dict[str, str]
LANGUAGES = ("ja", "en")


@cache
def messages() -> dict[str, Text]:
    raw = tomllib.loads((Path(__file__).with_name("messages.toml")).read_text(encoding="utf-8"))
    return {key: {"ja": str(value["ja"]), "en": str(value["en"])} for key, value in raw.items()}


def message(key: str) -> Text:
    return dict(messages()[key])


def text(key: str, lang: str, **params: object) -> str:
    entry = messages()[key]
    value = entry.get(lang) or entry["ja"]
    return value.format(**params) if params else value
