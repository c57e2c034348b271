"""``onshi dev-pki init | issue | revoke | renew | list``: the development PKI from the shell."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from onshi.clock import Clock, SystemClock, today_jst
from onshi.settings import Settings

if TYPE_CHECKING:
    from onshi.pki.devpki import DevelopmentPKI


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def configure(parser: argparse.ArgumentParser) -> None:
    from onshi.pki.builders import REVOCATION_REASONS

    parser.add_argument(
        "--dir", type=Path, default=None, help="PKI directory (default <ONSHI_DATA_DIR>/dev-pki)"
    )
    sub = parser.add_subparsers(dest="pki_command", required=True)
    sub.add_parser("init", help="create the development CA (idempotent) and re-sign the CRL")
    issue = sub.add_parser(
        "issue",
        help="issue a card (new key + certificate) to a SIMULATED J-LIS resident",
        description="Name the resident with --resident-id or --resident-my-number: the issuance "
        "is then recorded in the SIMULATED J-LIS, which is what lets 利用登録 find the card's "
        "holder. --person/--birth-date alone make a card J-LIS does not know (for tests).",
    )
    resident = issue.add_mutually_exclusive_group()
    resident.add_argument("--resident-id", type=int, help="SIMULATED J-LIS resident id")
    resident.add_argument(
        "--resident-my-number", help="the resident's 個人番号 (12 digits; only its hash is used)"
    )
    issue.add_argument("--person", help="opaque card label (default: jlis-resident-<id>)")
    issue.add_argument(
        "--birth-date", type=_iso_date, help="YYYY-MM-DD (default: the resident's; must match)"
    )
    issue.add_argument("--issued-on", type=_iso_date, help="YYYY-MM-DD (default: today, JST)")
    revoke = sub.add_parser("revoke", help="revoke a card's current certificate")
    revoke.add_argument("--card", required=True, help="card id")
    revoke.add_argument(
        "--reason", default="key_compromise", choices=sorted(REVOCATION_REASONS), help="CRL reason"
    )
    renew = sub.add_parser("renew", help="put a new key and certificate on a card")
    renew.add_argument("--card", required=True, help="card id")
    renew.add_argument("--issued-on", type=_iso_date, help="YYYY-MM-DD (default: today, JST)")
    renew.add_argument(
        "--keep-previous",
        action="store_true",
        help="do not revoke the replaced certificate (default: revoke it as superseded)",
    )
    listing = sub.add_parser("list", help="list the issued cards")
    listing.add_argument("--json", action="store_true", help="machine-readable output")


def dev_pki(args: argparse.Namespace, settings: Settings) -> int:
    return run(args, settings, SystemClock())


def run(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    from onshi.pki.devpki import DevelopmentPKI
    from onshi.pki.errors import DevelopmentPKIError

    if settings.environment == "production":
        print("dev-pki: refusing to run with ONSHI_ENV=production", file=sys.stderr)
        return 2
    pki = DevelopmentPKI(args.dir or settings.data_dir / "dev-pki")
    try:
        if args.pki_command == "init":
            created = pki.init(at=clock.now(), crl_url=f"{settings.public_origin}/dev-pki/crl.pem")
            print(f"{'created' if created else 'kept'} development CA in {pki.directory}")
            print("to trust it (development only):")
            print(f"  ONSHI_JPKI_TRUST_ANCHORS={pki.ca_path.resolve()}")
            print(f"  ONSHI_JPKI_CRLS={pki.crl_path.resolve()}")
            print(
                "a running server picks up the re-signed CRL within "
                f"{settings.jpki_reload_seconds} s (ONSHI_JPKI_RELOAD_SECONDS)"
            )
        elif args.pki_command == "issue":
            if not args.person or args.birth_date is None:
                print(
                    "dev-pki: issue needs --resident-id or --resident-my-number "
                    "(or, for a card J-LIS does not know, --person and --birth-date)",
                    file=sys.stderr,
                )
                return 2
            record = pki.issue(
                person=args.person,
                birth_date=args.birth_date,
                issued_on=args.issued_on or today_jst(clock),
            )
            print(f"{record.card_id} serial={record.serial_number:X} until={record.not_after}")
        elif args.pki_command == "revoke":
            pki.revoke(args.card, at=clock.now(), reason=args.reason)
            print(f"revoked the current certificate of card {args.card} ({args.reason})")
        elif args.pki_command == "renew":
            record = pki.renew(
                args.card,
                issued_on=args.issued_on or today_jst(clock),
                at=clock.now(),
                revoke_previous=not args.keep_previous,
            )
            print(f"{record.card_id} serial={record.serial_number:X} until={record.not_after}")
        else:
            _list(pki, as_json=args.json)
    except DevelopmentPKIError as exc:
        print(f"dev-pki: {exc}", file=sys.stderr)
        return 1
    return 0


def _list(pki: DevelopmentPKI, *, as_json: bool) -> None:
    records = pki.cards()
    if as_json:
        rows = [
            {
                "card_id": record.card_id,
                "person": record.person,
                "serial": f"{record.serial_number:X}",
                "not_after": record.not_after.isoformat(),
                "fingerprint": record.fingerprint,
                "revoked": record.revoked,
            }
            for record in records
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for record in records:
        status = "revoked" if record.revoked else "active"
        print(
            f"{record.card_id}  {record.person}  {record.serial_number:X}  "
            f"{record.not_after.date().isoformat()}  {status}"
        )
