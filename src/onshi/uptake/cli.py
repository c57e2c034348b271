"""``onshi uptake export …`` (open data to stdout) and ``onshi uptake refresh`` (rebuild the
rollups from institutions, events and card links)."""

from __future__ import annotations

import argparse
import sys
from datetime import date

from onshi.settings import Settings

EXIT_BAD_INPUT = 2


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"日付は YYYY-MM-DD で指定してください / not a date (YYYY-MM-DD): {value!r}"
        ) from None


def error_text(lang: str, code: str, params: dict[str, object]) -> str:
    """The message of an uptake error code from this package's messages.toml."""
    import tomllib
    from importlib import resources

    text = resources.files("onshi.uptake").joinpath("messages.toml").read_text(encoding="utf-8")
    errors = tomllib.loads(text)[lang]["error"]["uptake"]
    template = str(errors.get(code.removeprefix("uptake."), errors["invalid"]))
    return template.format(**params)


def configure(parser: argparse.ArgumentParser) -> None:
    from onshi.uptake.tables import SOURCES, TABLES

    sub = parser.add_subparsers(dest="uptake_command", required=True)
    export = sub.add_parser("export", help="write one table as CSV or JSON to stdout")
    export.add_argument("--as-of", type=_iso_date, required=True, help="YYYY-MM-DD")
    export.add_argument("--source", choices=SOURCES, required=True)
    export.add_argument("--table", choices=TABLES, required=True)
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    sub.add_parser("refresh", help="rebuild the weekly and monthly rollups from the data")


def uptake(args: argparse.Namespace, settings: Settings) -> int:
    if args.uptake_command == "refresh":
        return _refresh(settings)
    return _export(args, settings)


def _export(args: argparse.Namespace, settings: Settings) -> int:
    from sqlalchemy.orm import Session

    from onshi.db.engine import make_engine
    from onshi.uptake.export import render
    from onshi.uptake.service import get_table
    from onshi.uptake.tables import UptakeError

    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as db:
            table = get_table(db, args.source, args.table, args.as_of)
    except UptakeError as exc:
        for lang in ("ja", "en"):
            print(error_text(lang, exc.code, exc.params), file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        engine.dispose()
    sys.stdout.write(render(table, args.format))
    print(
        f"# {table.name} ({table.source}) as of {table.as_of.isoformat()}: {table.title}",
        file=sys.stderr,
    )
    return 0


def _refresh(settings: Settings) -> int:
    from onshi.clock import SystemClock, today_jst
    from onshi.db.engine import make_engine
    from onshi.uptake.refresh import refresh_all

    engine = make_engine(settings.database_url)
    try:
        with engine.begin() as connection:
            report = refresh_all(connection, today_jst(SystemClock()))
    finally:
        engine.dispose()
    print(
        f"uptake rollups: {report.weeks} weeks ({report.weekly_rows:,} rows), "
        f"{report.usage_months} months of use from events, "
        f"{report.registration_months} months of registrations"
    )
    return 0
