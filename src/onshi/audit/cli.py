"""``onshi audit integrate | verify | checkpoint | verify-receipt``: the transparency log from
the command line (see docs/transparency-log.md)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from onshi.settings import Settings

if TYPE_CHECKING:
    from onshi.audit.integrator import Integrator


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="audit_command", required=True)
    integrate = sub.add_parser(
        "integrate",
        help="run the integrator in this process (elected: one is active per deployment)",
    )
    integrate.add_argument(
        "--once", action="store_true", help="integrate what waits (if elected), then exit"
    )
    verify = sub.add_parser(
        "verify", help="recompute the whole tree and check it against signed checkpoints"
    )
    verify.add_argument(
        "--against",
        type=Path,
        metavar="FILE",
        help="checkpoints kept elsewhere (the export file a witness keeps) instead of the stored",
    )
    sub.add_parser("checkpoint", help="print the latest signed checkpoint")
    receipt = sub.add_parser("verify-receipt", help="check an access receipt (JSON) offline")
    receipt.add_argument("file", type=Path)
    receipt.add_argument(
        "--key", help="the log's published verifier key (default: the key in the receipt)"
    )


def audit(args: argparse.Namespace, settings: Settings) -> int:
    command = args.audit_command
    if command == "verify-receipt":
        return _verify_receipt(args)
    if command == "integrate":
        return _integrate(args, settings)
    if command == "verify":
        return _verify(args, settings)
    return _checkpoint(settings)


def _verify_receipt(args: argparse.Namespace) -> int:
    from onshi.audit.proofs import ReceiptError, check_receipt

    try:
        receipt = json.loads(args.file.read_text(encoding="utf-8"))
        checked = check_receipt(receipt, args.key)
    except (OSError, ValueError) as exc:
        reason = str(exc) if isinstance(exc, ReceiptError) else f"cannot read the receipt: {exc}"
        print(f"検証できません / NOT VERIFIED: {reason}", file=sys.stderr)
        return 1
    print(
        f"検証済み / VERIFIED: entry {checked.leaf_index} of {checked.tree_size} in "
        f"{checked.origin}: {json.dumps(checked.entry, ensure_ascii=False, sort_keys=True)}"
    )
    return 0


def _integrate(args: argparse.Namespace, settings: Settings) -> int:
    from onshi.audit.integrator import Integrator
    from onshi.audit.keys import log_identity
    from onshi.clock import SystemClock

    integrator = Integrator(
        settings.database_url,
        log_identity(settings),
        SystemClock(),
        interval=settings.tlog_interval_ms / 1000,
        export=settings.checkpoint_export,
    )
    if args.once:
        return _integrate_once(integrator)
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    integrator.start()
    print("onshi audit integrate: running (waiting for the integrator lock)", flush=True)
    elected = False
    while not stop.wait(0.1):
        if integrator.leader.is_set() and not elected:
            elected = True
            print("onshi audit integrate: elected", flush=True)
    integrator.stop()
    return 0


def _integrate_once(integrator: Integrator) -> int:
    from onshi.audit.integrator import integrate_pending

    try:
        with integrator.engine.connect() as connection:
            if not integrator.election.try_acquire(connection):
                print("another integrator holds the lock; nothing done", file=sys.stderr)
                return 1
            count = integrate_pending(
                connection, integrator.identity, integrator.clock, export=integrator.export
            )
    finally:
        integrator.stop()
    print(f"integrated {count} entries")
    return 0


def _verify(args: argparse.Namespace, settings: Settings) -> int:
    from onshi.audit.keys import log_identity
    from onshi.audit.note import NoteError, split_notes
    from onshi.audit.verify import verify_log
    from onshi.db.engine import make_engine

    notes = None
    if args.against is not None:
        try:
            notes = split_notes(args.against.read_text(encoding="utf-8"))
        except (OSError, NoteError) as exc:
            print(f"cannot read {args.against}: {exc}", file=sys.stderr)
            return 2
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            report = verify_log(connection, log_identity(settings), notes)
    finally:
        engine.dispose()
    source = str(args.against) if args.against else "the stored checkpoints"
    if report.ok:
        print(
            f"ok: {report.entries} entries, {report.checkpoints} checkpoints from {source} "
            f"(largest {report.largest_checkpoint}) match"
        )
        return 0
    for problem in report.problems[:50]:
        print(f"PROBLEM {problem}", file=sys.stderr)
    print(f"FAILED: {len(report.problems)} problem(s) against {source}", file=sys.stderr)
    return 1


def _checkpoint(settings: Settings) -> int:
    from onshi.audit.proofs import latest_checkpoint
    from onshi.db.engine import make_engine

    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            note = latest_checkpoint(connection)
    finally:
        engine.dispose()
    if note is None:
        print("no checkpoint yet (nothing integrated)", file=sys.stderr)
        return 1
    sys.stdout.write(note)
    return 0
