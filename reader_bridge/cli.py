"""``reader-bridge``: pair with the portal, run the kiosk, manage VIRTUAL cards.

    reader-bridge pair --portal URL --code CODE --label 受付1 [--config FILE]
    reader-bridge run [--config FILE] [--virtual-reader [--virtual-card DIR]]
    reader-bridge virtual-card create --from-dev-pki DIR --card ID --pin 1234 [--sign-pin PIN]
                                      --out DIR
    reader-bridge virtual-card insert --vpcd-port P DIR     (stays attached until removed)
    reader-bridge virtual-card remove DIR

Logs carry reader names, steps and codes only: never names, PINs or certificate contents.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from reader_bridge.config import BridgeConfig, ConfigError, load_config

LOG = logging.getLogger("reader_bridge")
PID_FILE = ".vpcd-link.pid"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reader-bridge", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", type=Path, help="TOML configuration file")
        p.add_argument("--state-dir", type=Path, help="device key and pairing record")

    pair = sub.add_parser("pair", help="pair this reader with the portal (pairing code)")
    common(pair)
    pair.add_argument("--portal", help="portal URL (default: portal_url of the config)")
    pair.add_argument("--code", required=True, help="8-character pairing code from /clinic/devices")
    pair.add_argument("--label", required=True, help="name shown to staff, e.g. 受付1")
    pair.add_argument("--force", action="store_true", help="replace an existing pairing")

    run = sub.add_parser("run", help="run the kiosk and the card flow")
    common(run)
    run.add_argument("--port", type=int, help="kiosk port on 127.0.0.1 (0: any free port)")
    run.add_argument(
        "--virtual-reader",
        action="store_true",
        help="SIMULATED in-process reader instead of PC/SC (the kiosk shows place/take buttons)",
    )
    run.add_argument("--virtual-card", type=Path, help="virtual card directory (virtual reader)")

    card = sub.add_parser("virtual-card", help="VIRTUAL My Number cards for tests and demos")
    card_sub = card.add_subparsers(dest="card_command", required=True)
    create = card_sub.add_parser("create", help="a card directory from the portal's dev PKI")
    create.add_argument("--from-dev-pki", type=Path, required=True, help="dev-pki directory")
    create.add_argument("--card", required=True, help="card id (onshi dev-pki list)")
    create.add_argument("--pin", required=True, help="the card's 4-digit PIN")
    create.add_argument(
        "--sign-pin",
        default=None,
        help="signature PIN, 6-16 upper-case letters and digits (default ONSHI2026)",
    )
    create.add_argument("--out", type=Path, required=True, help="card directory to write")
    insert = card_sub.add_parser("insert", help="put the card on a vpcd reader (foreground)")
    insert.add_argument("--vpcd-port", type=int, required=True, help="vpcd slot port (loopback)")
    insert.add_argument("directory", type=Path)
    remove = card_sub.add_parser("remove", help="take the card off the vpcd reader")
    remove.add_argument("directory", type=Path)
    return parser


def _config(args: argparse.Namespace) -> BridgeConfig:
    config = load_config(getattr(args, "config", None))
    if getattr(args, "state_dir", None):
        config = BridgeConfig(**{**config.__dict__, "state_dir": args.state_dir.resolve()})
    return config


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


def cmd_pair(args: argparse.Namespace, config: BridgeConfig) -> int:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from reader_bridge.identity import DEVICE_FILE, save_identity
    from reader_bridge.portal import PortalError, pair

    portal = args.portal or config.portal_url
    if not portal:
        print("pair: give --portal URL (or portal_url in the config)", file=sys.stderr)
        return 2
    if (config.state_dir / DEVICE_FILE).exists() and not args.force:
        print(
            f"pair: already paired ({config.state_dir / DEVICE_FILE}); --force replaces it",
            file=sys.stderr,
        )
        return 2
    key = Ed25519PrivateKey.generate()
    try:
        result = pair(portal, args.code, args.label, key, timeout=config.request_timeout)
    except PortalError as exc:
        print(f"pair: {exc.code}: {exc.message['ja']} / {exc.message['en']}", file=sys.stderr)
        return 1
    identity = save_identity(
        config.state_dir,
        key,
        device_id=result.device_id,
        portal=portal.rstrip("/"),
        label=args.label,
        institution=result.institution,
    )
    print(
        f"paired: device {identity.device_id} at {identity.institution_code} "
        f"{identity.institution_name} ({identity.label})"
    )
    return 0


def cmd_run(args: argparse.Namespace, config: BridgeConfig) -> int:
    from reader_bridge.face import SimulatedFaceMatcher
    from reader_bridge.flow import KioskFlow
    from reader_bridge.identity import NotPairedError, load_identity
    from reader_bridge.kiosk.server import KioskServer
    from reader_bridge.portal import PortalClient, RetryPolicy
    from reader_bridge.readers.base import Reader

    try:
        identity = load_identity(config.state_dir)
    except (NotPairedError, PermissionError, ValueError) as exc:
        print(f"run: {exc}", file=sys.stderr)
        return 2
    portal = PortalClient(
        identity,
        base_url=config.portal_url,
        timeout=config.request_timeout,
        retry=RetryPolicy(attempts=config.retry_attempts),
    )
    reader: Reader
    simulated = None
    if args.virtual_reader:
        from reader_bridge.readers.inprocess import InProcessReader
        from reader_bridge.virtual_card import VirtualJpkiCard

        in_process = InProcessReader(["Onshi SIMULATED Reader"])
        reader = in_process
        if args.virtual_card:
            card_dir = args.virtual_card

            def insert() -> None:
                if in_process.card_in("Onshi SIMULATED Reader") is None:
                    in_process.insert(VirtualJpkiCard.load(card_dir))

            simulated = (insert, in_process.remove)
    else:
        from reader_bridge.readers.pcsc import PcscReader

        reader = PcscReader()
    flow = KioskFlow(
        reader,
        portal,
        SimulatedFaceMatcher(),
        reader_filter=config.reader_filter,
        poll_interval=config.visual_poll_seconds,
    )
    port = config.kiosk_port if args.port is None else args.port
    server = KioskServer(flow, port, simulated_reader=simulated)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    flow.check_device()
    watcher = threading.Thread(target=flow.watch, name="card-watch", daemon=True)
    watcher.start()
    server.start()
    LOG.info("device %d paired with %s", identity.device_id, identity.institution_code)
    print(f"kiosk on {server.url}", flush=True)
    stop.wait()
    LOG.info("stopping")
    flow.stop()
    reader.close()
    server.close()
    portal.close()
    watcher.join(timeout=5)
    return 0


def cmd_virtual_card(args: argparse.Namespace) -> int:
    import datetime as dt

    from reader_bridge.virtual_card import VirtualJpkiCard
    from reader_bridge.virtual_signature import DEFAULT_SIGN_PIN, SignatureSide

    if args.card_command == "create":
        source = args.from_dev_pki / "cards" / args.card
        if not (source / "cert.pem").exists():
            print(f"virtual-card: no card {args.card} in {args.from_dev_pki}", file=sys.stderr)
            return 1
        try:
            card = VirtualJpkiCard.load(source, ca_path=args.from_dev_pki / "ca.pem", pin=args.pin)
            if args.sign_pin is not None or card.signature is None:
                card.signature = SignatureSide.generate(
                    dt.datetime.now(dt.UTC), pin=args.sign_pin or DEFAULT_SIGN_PIN
                )
        except ValueError as exc:
            print(f"virtual-card: {exc}", file=sys.stderr)
            return 1
        card.save(args.out)
        print(f"virtual card written to {args.out}")
        return 0
    if args.card_command == "insert":
        return _insert(args.directory, args.vpcd_port)
    return _remove(args.directory)


def _insert(directory: Path, port: int) -> int:
    from reader_bridge.virtual_card import VirtualJpkiCard
    from reader_bridge.vpcd import VpcdCardLink

    card = VirtualJpkiCard.load(directory)
    link = VpcdCardLink(card, port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
    pid_file = directory / PID_FILE
    pid_file.write_text(str(os.getpid()), encoding="ascii")
    try:
        link.insert()
        if link.wait_connected(10):
            print(f"virtual card on vpcd port {port}", flush=True)
        else:
            print(f"waiting for vpcd on 127.0.0.1:{port}", flush=True)
        stop.wait()
    finally:
        link.close()
        pid_file.unlink(missing_ok=True)
    return 0


def _remove(directory: Path) -> int:
    pid_file = directory / PID_FILE
    try:
        pid = int(pid_file.read_text(encoding="ascii"))
    except (OSError, ValueError):
        print(f"virtual-card: the card in {directory} is not inserted", file=sys.stderr)
        return 1
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        cmdline = b""
    if b"virtual-card" not in cmdline:
        pid_file.unlink(missing_ok=True)
        print(f"virtual-card: stale pid file in {directory}", file=sys.stderr)
        return 1
    os.kill(pid, signal.SIGTERM)
    print("virtual card removed")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "virtual-card":
        _setup_logging("WARNING")
        return cmd_virtual_card(args)
    try:
        config = _config(args)
    except ConfigError as exc:
        print(f"reader-bridge: {exc}", file=sys.stderr)
        return 2
    _setup_logging(config.log_level)
    if args.command == "pair":
        return cmd_pair(args, config)
    return cmd_run(args, config)


if __name__ == "__main__":
    sys.exit(main())
