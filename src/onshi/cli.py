"""Command line: ``onshi serve | migrate | seed | dev-pki | …``.

Each subcommand is a small function registered in ``COMMANDS``; heavy imports happen inside the
command so ``onshi --help`` stays instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from onshi.settings import Settings, SettingsError

Command = Callable[[argparse.Namespace, Settings], int]
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Command]] = {}


def command(
    name: str, help_text: str, configure: Callable[[argparse.ArgumentParser], None] | None = None
) -> Callable[[Command], Command]:
    def register(func: Command) -> Command:
        COMMANDS[name] = (help_text, configure or (lambda _parser: None), func)
        return func

    return register


@command("migrate", "apply database migrations (Alembic) up to the newest revision")
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


@command("serve", "serve the web app with uvicorn", _serve_options)
def serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from onshi.app import create_app

    if args.workers > 1:
        uvicorn.run(
            "onshi.app:create_app_from_env",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=args.workers,
            proxy_headers=False,
            timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
        )
    else:
        uvicorn.run(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="onshi", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    _load_command_modules()
    for name, (help_text, configure, _func) in sorted(COMMANDS.items()):
        configure(sub.add_parser(name, help=help_text))
    return parser


def _load_command_modules() -> None:
    """Domain packages register their own subcommands (seed, dev-pki …) by importing here."""
    import importlib

    for module in CLI_MODULES:
        importlib.import_module(module)


CLI_MODULES: tuple[str, ...] = (
    "onshi.accounts.cli",
    "onshi.batch.cli",
    "onshi.devices.cli",
    "onshi.pki.cli",
    "onshi.seeding.commands",
)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    _help, _configure, func = COMMANDS[args.command]
    return func(args, settings)


if __name__ == "__main__":
    raise SystemExit(main())
