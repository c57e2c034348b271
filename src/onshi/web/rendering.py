"""Rendering a page: every template gets ``lang``, ``principal``, ``csrf_token`` and
``current_path`` from the request, plus the globals ``t`` (translate), ``error_text`` and the
``jst`` / ``number`` filters registered in :func:`build_template_environment`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from litestar import MediaType, Request
from litestar.connection import ASGIConnection
from litestar.response import Template

from onshi.clock import JST
from onshi.records.quantities import format_quantity
from onshi.web.i18n import DEFAULT_LANG, Catalogue, Lang, parse_lang
from onshi.web.state import request_csrf_token, request_lang, request_principal


def _assets_root() -> Path:
    """Where ``templates/`` and ``static/`` are: inside the package in an installed wheel
    (``onshi/web/_assets``, see ``[tool.hatch.build.targets.wheel.force-include]``), else the
    repository root of a source checkout (editable install, tests)."""
    packaged = Path(__file__).resolve().parent / "_assets"
    if (packaged / "templates").is_dir():
        return packaged
    return Path(__file__).resolve().parents[3]


PROJECT_ROOT = _assets_root()
TEMPLATES_DIR = PROJECT_ROOT / "templates"
STATIC_DIR = PROJECT_ROOT / "static"


def _lang_of(context: Context) -> Lang:
    return parse_lang(context.get("lang")) or DEFAULT_LANG


def build_template_environment(
    catalogue: Catalogue, directory: Path = TEMPLATES_DIR
) -> Environment:
    env = Environment(
        loader=FileSystemLoader(directory),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )

    @pass_context
    def t(context: Context, key: str, /, **params: Any) -> str:
        return catalogue.translate(_lang_of(context), key, **params)

    @pass_context
    def error_text(context: Context, code: str, params: Mapping[str, Any] | None = None) -> str:
        return catalogue.error_message(_lang_of(context), code, **dict(params or {}))

    env.globals["t"] = t
    env.globals["error_text"] = error_text
    env.globals["catalogue"] = catalogue
    env.filters["jst"] = format_jst
    env.filters["number"] = format_number
    env.filters["percent"] = format_percent
    env.filters["quantity"] = format_quantity
    return env


def format_jst(value: datetime | date | None, style: str = "minute") -> str:
    """Times are stored in UTC and shown in JST (2026-04-01 09:30)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        local = value.astimezone(JST)
        if style == "date":
            return local.strftime("%Y-%m-%d")
        if style == "time":
            return local.strftime("%H:%M")
        return local.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def format_number(value: int | float | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return f"{value:,}"


def format_percent(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    return f"{value * 100:.{digits}f}%"


def base_context(connection: ASGIConnection[Any, Any, Any, Any]) -> dict[str, Any]:
    path = connection.url.path
    # The language switch links back here: drop ``lang`` so the new choice is not overridden.
    query = urlencode([(k, v) for k, v in connection.query_params.multi_items() if k != "lang"])
    return {
        "lang": request_lang(connection),
        "principal": request_principal(connection),
        "csrf_token": request_csrf_token(connection),
        "current_path": f"{path}?{query}" if query else path,
    }


def render(
    request: Request[Any, Any, Any],
    template_name: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Template:
    merged = base_context(request)
    merged.update(context or {})
    return Template(
        template_name=template_name,
        context=merged,
        status_code=status_code,
        headers=dict(headers or {}),
        media_type=MediaType.HTML,
    )
