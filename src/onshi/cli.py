"""Command line: ``onshi serve | migrate | seed | dev-pki | …``.

Every subcommand is one row of ``COMMANDS`` below: its name, help text, and where its function
(and, if it takes options, the function that adds them) lives, as ``module:attribute``. Domain
modules define plain functions and never import this module, so ``onshi --help`` and
``python -m onshi.cli --help`` list the same commands, and the modules are imported only when
the parser is built.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

from onshi.files import PRIVATE_UMASK
from onshi.settings import Settings, SettingsError

Command = Callable[[argparse.Namespace, Settings], int]
Configure = Callable[[argparse.ArgumentParser], None]


@dataclass(frozen=True)
class CommandSpec:
    help: str
    run: str
    """``module:function`` taking ``(args, settings)`` and returning the exit status."""
    configure: str | None = None
    """``module:function`` adding the command's options to its parser."""


def _resolve(target: str) -> Callable[..., object]:
    module, _, attribute = target.partition(":")
    resolved: Callable[..., object] = getattr(importlib.import_module(module), attribute)
    return resolved


def migrate(_args: argparse.Namespace, settings: Settings) -> int:
    from onshi.db.migrate import upgrade

    upgrade(settings.database_url)
    print(f"migrated {settings.database_url}")
    return 0


# Open live streams (reception screens) never finish on their own: on SIGTERM uvicorn waits this
# long for requests in flight, then cancels the streams; browsers reconnect to another worker.
SHUTDOWN_GRACE_SECONDS = 3


def _serve_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument(
        "--shared-socket",
        action="store_true",
        help="with --workers > 1: one listening socket shared by the workers instead of one "
        "SO_REUSEPORT socket each (kernel balancing)",
    )


def serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from onshi.app import create_app
    from onshi.web.proxies import UVICORN_OPTIONS

    if args.workers > 1:
        # Not uvicorn.run(workers=N): its listener loses TCP_NODELAY (onshi.web.serving).
        from onshi.web.serving import serve_workers

        return serve_workers(
            "onshi.app:create_app_from_env",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=args.workers,
            shared_socket=bool(getattr(args, "shared_socket", False)),
            timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
            access_log=settings.access_log,
            **UVICORN_OPTIONS,
        )
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
        access_log=settings.access_log,
        **UVICORN_OPTIONS,
    )
    return 0


def run_demo(_args: argparse.Namespace, settings: Settings) -> int:
    from onshi.seeding.commands import prepare_demo

    prepared = prepare_demo(settings)
    if isinstance(prepared, int):
        return prepared
    return serve(argparse.Namespace(workers=1), prepared)


_CLI = "onshi.cli"
COMMANDS: dict[str, CommandSpec] = {
    "audit": CommandSpec(
        "transparency log: integrate, verify [--against FILE], checkpoint, verify-receipt FILE",
        "onshi.audit.cli:audit",
        "onshi.audit.cli:configure",
    ),
    "batch-worker": CommandSpec(
        "process queued 一括照会 (batch inquiries)",
        "onshi.batch.cli:batch_worker",
        "onshi.batch.cli:configure",
    ),
    "dev-pki": CommandSpec(
        "development JPKI-like CA and card certificates (never for production)",
        "onshi.jlis.dev_pki_cli:dev_pki",
        "onshi.pki.cli:configure",
    ),
    "migrate": CommandSpec(
        "apply database migrations (Alembic) up to the newest revision", f"{_CLI}:migrate"
    ),
    "patient-enrolment-code": CommandSpec(
        "issue a one-time patient enrolment link (30 minutes, single use, audited)",
        "onshi.accounts.cli:patient_enrolment_code",
        "onshi.accounts.cli:configure",
    ),
    "purge-device-nonces": CommandSpec(
        "delete expired signed-request nonces of reader devices (schedule it, e.g. hourly)",
        "onshi.devices.cli:purge_device_nonces_command",
    ),
    "registrations": CommandSpec(
        "insurer registration intake: import member events with the 5-item check",
        "onshi.registration.cli:registrations",
        "onshi.registration.cli:configure",
    ),
    "run-demo": CommandSpec(
        "migrate, seed the demo nation if empty, dev PKI, print sign-ins, serve",
        f"{_CLI}:run_demo",
    ),
    "seed": CommandSpec(
        "fill an empty database with the GENERATED synthetic nation",
        "onshi.seeding.commands:seed",
        "onshi.seeding.commands:configure_seed",
    ),
    "serve": CommandSpec(
        "serve the web app with uvicorn", f"{_CLI}:serve", f"{_CLI}:_serve_options"
    ),
    "simulated-jlis": CommandSpec(
        "SIMULATED J-LIS resident registry: load residents from CSV",
        "onshi.jlis.cli:simulated_jlis",
        "onshi.jlis.cli:configure",
    ),
    "uptake": CommandSpec(
        "uptake and use statistics: export open data (CSV/JSON), refresh the rollups",
        "onshi.uptake.cli:uptake",
        "onshi.uptake.cli:configure",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="onshi", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, spec in sorted(COMMANDS.items()):
        command_parser = sub.add_parser(name, help=spec.help)
        if spec.configure is not None:
            _resolve(spec.configure)(command_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.umask(PRIVATE_UMASK)  # data files 0600, directories 0700 (src/onshi/files.py)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    run = cast(Command, _resolve(COMMANDS[args.command].run))
    return run(args, settings)


if __name__ == "__main__":
    raise SystemExit(main())
