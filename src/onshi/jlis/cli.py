"""``onshi simulated-jlis load FILE.csv``: fill the SIMULATED J-LIS resident registry.

All or nothing: every line is checked first; if any is bad, each problem is printed (Japanese,
then English) with its line number, nothing is written and the exit status is 1. Otherwise the
residents are added or updated in one transaction and a summary is printed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from onshi.clock import Clock, SystemClock, today_jst
from onshi.settings import Settings


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="jlis_command", required=True)
    load = sub.add_parser(
        "load",
        help="load residents from CSV (my_number,kanji_name,kana_name,birth_date,sex,address)",
    )
    load.add_argument("file", type=Path, help="UTF-8 CSV file (a BOM is accepted)")


def simulated_jlis(args: argparse.Namespace, settings: Settings) -> int:
    return run(args, settings, SystemClock())


def run(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    from sqlalchemy.orm import Session

    from onshi.db.engine import make_engine
    from onshi.jlis.loading import message, parse_resident_file
    from onshi.jlis.services import load_residents

    path: Path = args.file
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        for language in ("ja", "en"):
            print(message("jlis.file.unreadable", language, reason=reason), file=sys.stderr)
        return 1
    parsed = parse_resident_file(data, my_number_key=settings.my_number_key, today=today_jst(clock))
    if parsed.problems:
        for problem in parsed.problems:
            print(problem.text("ja"), file=sys.stderr)
            print(f"  {problem.text('en')}", file=sys.stderr)
        count = len(parsed.problems)
        for language in ("ja", "en"):
            print(message("jlis.load.refused", language, count=count), file=sys.stderr)
        return 1
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as db, db.begin():
            summary = load_residents(db, clock, parsed.rows, source=path.name)
    finally:
        engine.dispose()
    counts = {
        "total": summary.total,
        "added": summary.added,
        "updated": summary.updated,
        "unchanged": summary.unchanged,
    }
    for language in ("ja", "en"):
        print(message("jlis.load.summary", language, **counts))
    return 0
