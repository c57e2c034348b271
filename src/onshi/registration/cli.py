"""``onshi registrations import --insurer NUMBER FILE.csv [--results OUT.csv]``: register an
insurer's member events from the command line, synchronously, with the same service as the
upload page and the API.

Exit status 0 when the file was processed, whatever the rows' outcomes (the per-row results go
to ``--results`` and a summary to stdout); 1 when the file itself cannot be processed (unknown
insurer, unreadable, wrong encoding or header), with the reason in Japanese and English on
stderr and nothing written. Importing the same file again resumes a run that was interrupted,
and otherwise changes nothing (every row ``unchanged``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from onshi.clock import Clock, SystemClock
from onshi.settings import Settings


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="registrations_command", required=True)
    load = sub.add_parser("import", help="register member events from a CSV file")
    load.add_argument("--insurer", required=True, help="保険者番号 of the insurer (6 or 8 digits)")
    load.add_argument("file", type=Path, help="CSV (UTF-8, UTF-8 with BOM or CP932)")
    load.add_argument("--results", type=Path, default=None, help="write the per-row results here")


def registrations(args: argparse.Namespace, settings: Settings) -> int:
    return run(args, settings, SystemClock())


def _refuse(code: str, params: dict[str, str]) -> int:
    from onshi.registration.catalogue import render

    for language in ("ja", "en"):
        print(render(code, language, params), file=sys.stderr)
    return 1


def run(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    from sqlalchemy.orm import Session

    from onshi.db.engine import make_engine
    from onshi.qualification.links import SYSTEM
    from onshi.registration.catalogue import render
    from onshi.registration.errors import RegistrationFileError
    from onshi.registration.jobs import (
        check_file,
        create_job,
        insurer_ref,
        result_lines,
        run_job,
        sha256_of,
        unfinished_job,
    )
    from onshi.registration.models import JobSource

    path: Path = args.file
    try:
        source = path.open("rb")
    except OSError:
        return _refuse("registration.file.not_found", {"path": path.name})
    engine = make_engine(settings.database_url)
    try:
        with source:
            try:
                encoding, total = check_file(source)
                digest = sha256_of(source)
                with Session(engine) as db, db.begin():
                    insurer = insurer_ref(db, args.insurer)
                    job_id = unfinished_job(db, insurer.id, digest)
                    if job_id is None:
                        job_id = create_job(
                            db,
                            clock,
                            insurer,
                            JobSource.CLI,
                            filename=path.name,
                            sha256=digest,
                            encoding=encoding,
                            total_rows=total,
                        )
            except RegistrationFileError as exc:
                return _refuse(exc.code, {k: str(v) for k, v in exc.params.items()})
            summary = run_job(
                engine, clock, job_id, source, my_number_key=settings.my_number_key, actor=SYSTEM
            )
        if args.results is not None:
            with args.results.open("w", encoding="utf-8", newline="") as out:
                for text in result_lines(engine, job_id):
                    out.write(text)
    finally:
        engine.dispose()
    counts = {name: str(count) for name, count in summary.counts.items()}
    for language in ("ja", "en"):
        print(
            render(
                "registration.cli.summary",
                language,
                {"job": str(job_id), "total": str(summary.total_rows), **counts},
            )
        )
    if summary.resumed_from:
        for language in ("ja", "en"):
            print(render("registration.cli.resumed", language, {"rows": str(summary.resumed_from)}))
    return 0
