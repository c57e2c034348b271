"""``onshi batch-worker``: process 一括照会 inquiries in a process of its own (the app's
in-process worker can be turned off with ONSHI_BATCH_WORKER=false)."""

from __future__ import annotations

import argparse
import resource
import signal
import sys
import time
from types import FrameType

from onshi.settings import Settings


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--until-idle",
        action="store_true",
        help="process what is queued, print figures (rows/s, peak memory) and exit",
    )
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between polls")


def batch_worker(args: argparse.Namespace, settings: Settings) -> int:
    from sqlalchemy import func, select

    from onshi.batch.models import BatchInquiryRow
    from onshi.batch.worker import BatchWorker
    from onshi.clock import SystemClock
    from onshi.db.engine import make_engine

    engine = make_engine(settings.database_url)
    worker = BatchWorker(engine, SystemClock(), poll_seconds=args.poll)
    try:
        if args.until_idle:
            with engine.connect() as connection:
                before = connection.scalar(select(func.count()).select_from(BatchInquiryRow)) or 0
            started = time.monotonic()
            inquiries = worker.run_until_idle()
            elapsed = time.monotonic() - started
            with engine.connect() as connection:
                after = connection.scalar(select(func.count()).select_from(BatchInquiryRow)) or 0
            rows = after - before
            usage = resource.getrusage(resource.RUSAGE_SELF)
            # The validation process (onshi.batch.source) of a large inquiry: its CPU counts
            # too, and its peak RSS (the largest child's) is reported next to the worker's.
            child = resource.getrusage(resource.RUSAGE_CHILDREN)
            peak_mib = usage.ru_maxrss / 1024
            cpu = usage.ru_utime + usage.ru_stime + child.ru_utime + child.ru_stime
            rate = rows / elapsed if elapsed else 0.0
            print(
                f"batch-worker: {inquiries} inquiries, {rows:,} rows in {elapsed:.1f} s "
                f"({rate:,.0f} rows/s), peak RSS {peak_mib:,.0f} MiB, "
                f"CPU {cpu:.1f} s ({rows / cpu if cpu else 0:,.0f} rows per CPU second; "
                f"validation process {child.ru_utime + child.ru_stime:.1f} s CPU, "
                f"peak RSS {child.ru_maxrss / 1024:,.0f} MiB)"
            )
            return 0

        def stop(_signum: int, _frame: FrameType | None) -> None:
            worker.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        worker.start()
        print("batch-worker: waiting for inquiries (Ctrl-C to stop)", file=sys.stderr)
        while worker.running:
            time.sleep(0.5)
        return 0
    finally:
        engine.dispose()
