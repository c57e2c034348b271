"""一括照会 (P2): 1,000,000 CSV rows through the batch worker: rows/s and the worker's peak RSS.

Run: ``.venv/bin/python -m bench.batch_inquiry [--rows N] [--people N] [--dir DIR]
[--database-url URL]``. Without ``--database-url`` it seeds a fresh SQLite file (``onshi seed
--size large --people N``; kept in DIR and reused when DIR already holds one). It then writes a
CSV of N rows drawn from the seeded qualifications (80 % real 記号番号 + 生年月日, 15 % not found,
5 % malformed: bad check digit, bad date, wrong column count), submits it as an upload would
(timed), runs ``onshi batch-worker --until-idle`` as a separate process (which reports its rows/s,
CPU and peak RSS from getrusage, its own and its validation process's), and streams the results
CSV (timed). Targets: ≥ 20,000 rows/s and ≤ 256 MB peak (worker + validation process). Each run
adds 2 × N rows to the database: for comparable figures start from a fresh copy of the seeded
file. Record the figures in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_RATE = 20_000
TARGET_RSS_MIB = 256


def _env(directory: Path, url: str) -> dict[str, str]:
    return {
        **os.environ,
        "ONSHI_DATA_DIR": str(directory),
        "ONSHI_ENV": "development",
        "ONSHI_DATABASE_URL": url,
    }


def _onshi() -> list[str]:
    return [str(Path(sys.executable).parent / "onshi")]


def _seed(directory: Path, people: int) -> str:
    database = directory / "onshi.sqlite3"
    url = f"sqlite:///{database}"
    if not database.exists():
        env = _env(directory, url)
        subprocess.run([*_onshi(), "migrate"], env=env, check=True)
        subprocess.run(
            [*_onshi(), "seed", "--size", "large", "--people", str(people)], env=env, check=True
        )
    return url


def _write_csv(url: str, path: Path, rows: int) -> None:
    from sqlalchemy import select

    from onshi.db.engine import make_engine
    from onshi.qualification.models import Insurer, Qualification

    engine = make_engine(url)
    with engine.connect() as connection:
        keys = connection.execute(
            select(
                Insurer.number,
                Qualification.symbol,
                Qualification.number,
                Qualification.branch,
                Qualification.birth_date,
            ).join(Insurer, Insurer.id == Qualification.insurer_id)
        ).all()
    engine.dispose()
    if not keys:
        raise SystemExit("the database has no qualifications")
    rng = random.Random(20260401)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("照会番号,保険者番号,記号,番号,枝番,生年月日\r\n")
        for n in range(rows):
            insurer, symbol, number, branch, birth = keys[rng.randrange(len(keys))]
            ref = f"R{n:07d}"
            roll = rng.random()
            day = f"{birth:%Y%m%d}"
            if roll < 0.80:
                line = f"{ref},{insurer},{symbol or ''},{number},{branch or ''},{day}"
            elif roll < 0.95:
                line = f"{ref},{insurer},{symbol or ''},9{number},,{day}"
            elif roll < 0.97:
                bad = insurer[:-1] + str((int(insurer[-1]) + 1) % 10)
                line = f"{ref},{bad},{symbol or ''},{number},{branch or ''},{day}"
            elif roll < 0.99:
                line = f"{ref},{insurer},{symbol or ''},{number},{branch or ''},{birth:%Y}1340"
            else:
                line = f"{ref},{insurer},{symbol or ''},{number}"
            out.write(line + "\r\n")


def _submit(url: str, path: Path) -> tuple[int, str, float]:
    from sqlalchemy import select

    from onshi.batch.services import submit_csv
    from onshi.clock import SystemClock
    from onshi.db.engine import make_engine, make_session_factory
    from onshi.institutions.models import Institution

    engine = make_engine(url)
    factory = make_session_factory(engine)
    started = time.monotonic()
    with factory() as db, path.open("rb") as source:
        institution_id = db.scalar(select(Institution.id).order_by(Institution.id).limit(1))
        assert institution_id is not None
        inquiry = submit_csv(db, SystemClock(), source, institution_id=institution_id)
        db.commit()
        result = inquiry.id, inquiry.receipt_number
    elapsed = time.monotonic() - started
    engine.dispose()
    return result[0], result[1], elapsed


def _export(url: str, inquiry_id: int) -> tuple[int, float]:
    from onshi.batch.export import csv_lines
    from onshi.batch.queries import iter_results
    from onshi.db.engine import make_engine

    engine = make_engine(url)
    started = time.monotonic()
    size = 0
    for piece in csv_lines(iter_results(engine, inquiry_id), "ja", lambda _l, key, _p: key):
        size += len(piece)
    elapsed = time.monotonic() - started
    engine.dispose()
    return size, elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--database-url", default=None, help="a migrated, seeded database")
    args = parser.parse_args()
    directory = args.dir or Path(tempfile.mkdtemp(prefix="onshi-batch-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    url = args.database_url or _seed(directory, args.people)
    csv_path = directory / f"batch-{args.rows}.csv"
    if not csv_path.exists():
        _write_csv(url, csv_path, args.rows)
    print(f"input: {csv_path} ({csv_path.stat().st_size / 2**20:,.1f} MiB, {args.rows:,} rows)")

    inquiry_id, receipt, submit_seconds = _submit(url, csv_path)
    print(f"upload (ingest + store): {submit_seconds:.1f} s, 受付番号 {receipt}")

    worker = subprocess.run(
        [*_onshi(), "batch-worker", "--until-idle"],
        env=_env(directory, url),
        check=True,
        capture_output=True,
        text=True,
    )
    report = worker.stdout.strip()
    print(report)
    match = re.search(r"\(([\d,]+) rows/s\), peak RSS ([\d,]+) MiB", report)
    if match is None:
        print("could not read the worker's figures", file=sys.stderr)
        return 1
    rate = int(match.group(1).replace(",", ""))
    rss = int(match.group(2).replace(",", ""))
    # A large inquiry is validated in a second process: its peak counts against the budget.
    child = re.search(r"validation process [\d.]+ s CPU, peak RSS ([\d,]+) MiB", report)
    if child is not None:
        rss += int(child.group(1).replace(",", ""))

    size, export_seconds = _export(url, inquiry_id)
    print(f"results CSV streamed: {size / 2**20:,.1f} MiB in {export_seconds:.1f} s")
    print(
        f"worker: {rate:,} rows/s (target ≥ {TARGET_RATE:,}: {rate / TARGET_RATE:.2f}x), "
        f"peak RSS {rss} MiB, worker + validation process "
        f"(target ≤ {TARGET_RSS_MIB}: {rss / TARGET_RSS_MIB:.2f}x)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
