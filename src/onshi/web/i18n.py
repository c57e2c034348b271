"""Message catalogue: Japanese first, English second.

Every ``messages.toml`` under ``src/onshi`` holds two tables, ``[ja]`` and ``[en]``, keyed by
message id (dotted keys are fine: ``[ja.error]`` / ``code = "…"`` is ``error.code``). Values may
carry ``{param}`` placeholders. The files are merged when the app starts; a key defined twice is an
error, so two packages cannot silently overwrite each other's wording.

Lookup rule for a domain error code (:meth:`Catalogue.error_message`):
1. the code itself, when it is a message id (``identifiers.insurer_number.check_digit``);
2. ``error.<code>``;
3. the generic ``error.generic``.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

Lang = Literal["ja", "en"]
LANGUAGES: Final[tuple[Lang, ...]] = ("ja", "en")
DEFAULT_LANG: Final[Lang] = "ja"
PACKAGE_ROOT: Final[Path] = Path(__file__).resolve().parent.parent


class CatalogueError(ValueError):
    """A message file is malformed, or two files define the same key."""


def parse_lang(value: str | None) -> Lang | None:
    if value is None:
        return None
    lowered = value.strip().lower()
    for lang in LANGUAGES:
        if lowered == lang:
            return lang
    return None


def placeholders(template: str) -> frozenset[str]:
    """The ``{name}`` fields a message uses (format spec and conversion ignored)."""
    names: set[str] = set()
    for _literal, name, _spec, _conversion in string.Formatter().parse(template):
        if name is not None:
            names.add(name)
    return frozenset(names)


def _flatten(table: Mapping[str, Any], prefix: str, source: Path) -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        full = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping):
            flat.update(_flatten(value, full, source))
        elif isinstance(value, str):
            flat[full] = value
        else:
            raise CatalogueError(f"{source}: {full} must be a string, not {type(value).__name__}")
    return flat


@dataclass(frozen=True)
class Catalogue:
    messages: Mapping[Lang, Mapping[str, str]]
    sources: Mapping[str, Path] = field(default_factory=dict)

    @classmethod
    def load(cls, files: Iterable[Path]) -> Catalogue:
        merged: dict[Lang, dict[str, str]] = {lang: {} for lang in LANGUAGES}
        sources: dict[str, Path] = {}
        for path in sorted(files):
            with path.open("rb") as handle:
                data = tomllib.load(handle)
            unknown = set(data) - set(LANGUAGES)
            if unknown:
                raise CatalogueError(f"{path}: unknown top-level tables {sorted(unknown)}")
            for lang in LANGUAGES:
                for key, text in _flatten(data.get(lang, {}), "", path).items():
                    if key in merged[lang]:
                        raise CatalogueError(
                            f"{path}: message {key!r} ({lang}) already defined in {sources[key]}"
                        )
                    merged[lang][key] = text
                    sources[key] = path
        return cls(messages=merged, sources=sources)

    @classmethod
    def discover(cls, root: Path = PACKAGE_ROOT) -> Catalogue:
        """Every ``messages.toml`` below the ``onshi`` package."""
        return cls.load(root.rglob("messages.toml"))

    def has(self, key: str, lang: Lang = DEFAULT_LANG) -> bool:
        return key in self.messages[lang]

    def translate(self, lang: Lang, key: str, /, **params: Any) -> str:
        """The message in ``lang``, falling back to Japanese, then to the key itself (so a
        missing message is visible rather than blank; the catalogue test keeps this from
        happening for shipped keys)."""
        template = self.messages[lang].get(key)
        if template is None:
            template = self.messages[DEFAULT_LANG].get(key)
        if template is None:
            return key
        try:
            return template.format_map(_SafeParams(params))
        except (ValueError, IndexError):
            return template

    def error_message(self, lang: Lang, code: str, /, **params: Any) -> str:
        for key in (code, f"error.{code}"):
            if self.has(key, lang) or self.has(key):
                return self.translate(lang, key, **params)
        return self.translate(lang, "error.generic", **params)

    def mismatches(self) -> list[str]:
        """Keys or placeholders that differ between languages (empty when consistent)."""
        problems: list[str] = []
        ja, en = self.messages["ja"], self.messages["en"]
        for key in sorted(set(ja) ^ set(en)):
            where = "ja" if key in ja else "en"
            problems.append(f"{key}: only in [{where}] ({self.sources.get(key)})")
        for key in sorted(set(ja) & set(en)):
            if placeholders(ja[key]) != placeholders(en[key]):
                problems.append(
                    f"{key}: placeholders differ: ja {sorted(placeholders(ja[key]))} "
                    f"en {sorted(placeholders(en[key]))}"
                )
        return problems


#: What a placeholder shows when its value was not given (a message shown away from the record
#: that holds its details, e.g. a 一括照会 row error in an event list): never a raw ``{name}``.
MISSING_PARAM = "…"


class _SafeParams(dict[str, Any]):
    """A placeholder without a value renders as :data:`MISSING_PARAM` instead of raising or
    leaking its ``{name}`` to the screen."""

    def __missing__(self, key: str) -> str:
        return MISSING_PARAM
