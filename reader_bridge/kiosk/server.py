"""The kiosk's HTTP server: the patient screens on 127.0.0.1 only (stdlib, one thread per request).

GET  /                 the current screen (full page)
GET  /state?since=N    long poll: ``{"version": N'}`` when the screen changed (or after 20 s)
POST /action           a form post: ``csrf``, ``action`` and its fields; answers 303 → /
GET  /static/…         kiosk.js, kiosk.css

Only the loopback interface is bound; requests must name this host and port (no DNS
rebinding), POSTs carry the per-process CSRF token and, when the browser sends one, this
origin. Responses forbid caching, framing and inline script (CSP). PINs travel in POST bodies
only and are never logged.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from reader_bridge.flow import CONSENT_KINDS, FlowError, KioskFlow
from reader_bridge.kiosk.render import render_page

LOG = logging.getLogger(__name__)
LOOPBACK = "127.0.0.1"
STATIC_DIR = Path(__file__).with_name("static")
STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
MAX_FORM_BYTES = 16 * 1024
LONG_POLL_SECONDS = 20.0


class KioskServer:
    """Serves `flow` on 127.0.0.1:`port` (0: any free port) in a background thread."""

    def __init__(
        self,
        flow: KioskFlow,
        port: int = 0,
        *,
        simulated_reader: tuple[Callable[[], None], Callable[[], None]] | None = None,
    ) -> None:
        self.flow = flow
        self.csrf = secrets.token_urlsafe(32)
        self.simulated_reader = simulated_reader
        handler = type("BoundKioskHandler", (KioskHandler,), {"kiosk": self})
        self.httpd = ThreadingHTTPServer((LOOPBACK, port), handler)
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/"

    @property
    def allowed_hosts(self) -> set[str]:
        return {f"{LOOPBACK}:{self.port}", f"localhost:{self.port}"}

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, name="kiosk-http", daemon=True
        )
        self._thread.start()

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class KioskHandler(BaseHTTPRequestHandler):
    kiosk: KioskServer
    server_version = "reader-bridge-kiosk"
    sys_version = ""

    def log_message(self, format: str, *args: object) -> None:
        LOG.debug("kiosk http: %s", format % args)

    # -- helpers --------------------------------------------------------------------------------

    def _headers(self, status: int, content_type: str, length: int) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "same-origin")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.end_headers()

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self._headers(status, content_type, len(body))
        self.wfile.write(body)

    def _plain(self, status: HTTPStatus) -> None:
        self._send(status, f"{status.value} {status.phrase}\n".encode(), "text/plain")

    def _host_ok(self) -> bool:
        return self.headers.get("Host", "") in self.kiosk.allowed_hosts

    # -- GET ------------------------------------------------------------------------------------

    def do_GET(self) -> None:
        if not self._host_ok():
            self._plain(HTTPStatus.MISDIRECTED_REQUEST)
            return
        url = urlsplit(self.path)
        if url.path == "/":
            flow = self.kiosk.flow
            version = flow.version
            html = render_page(
                flow.snapshot(),
                self.kiosk.csrf,
                version,
                simulated_reader=self.kiosk.simulated_reader is not None,
            )
            self._send(HTTPStatus.OK, html.encode("utf-8"), "text/html; charset=utf-8")
        elif url.path == "/state":
            try:
                since = int(parse_qs(url.query).get("since", ["-1"])[0])
            except ValueError:
                since = -1
            version = self.kiosk.flow.wait_for_change(since, LONG_POLL_SECONDS)
            body = json.dumps({"version": version}).encode()
            self._send(HTTPStatus.OK, body, "application/json")
        elif url.path.startswith("/static/"):
            name = url.path.removeprefix("/static/")
            path = STATIC_DIR / name
            if "/" in name or path.suffix not in STATIC_TYPES or not path.is_file():
                self._plain(HTTPStatus.NOT_FOUND)
                return
            self._send(HTTPStatus.OK, path.read_bytes(), STATIC_TYPES[path.suffix])
        else:
            self._plain(HTTPStatus.NOT_FOUND)

    # -- POST -----------------------------------------------------------------------------------

    def do_POST(self) -> None:
        if not self._host_ok():
            self._plain(HTTPStatus.MISDIRECTED_REQUEST)
            return
        origin = self.headers.get("Origin")
        if origin is not None and urlsplit(origin).netloc not in self.kiosk.allowed_hosts:
            self._plain(HTTPStatus.FORBIDDEN)
            return
        if urlsplit(self.path).path != "/action":
            self._plain(HTTPStatus.NOT_FOUND)
            return
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_FORM_BYTES:
            self._plain(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return
        form = {
            key: values[0]
            for key, values in parse_qs(self.rfile.read(length).decode("utf-8", "replace")).items()
        }
        if not secrets.compare_digest(form.get("csrf", ""), self.kiosk.csrf):
            self._plain(HTTPStatus.FORBIDDEN)
            return
        try:
            self._dispatch(form.get("action", ""), form)
        except FlowError as exc:  # a stale page: show the current screen
            LOG.info("kiosk action ignored: %s", exc)
        self.send_response(HTTPStatus.SEE_OTHER)
        self.send_header("Location", "/")
        self.send_header("Content-Length", "0")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()

    def _dispatch(self, action: str, form: dict[str, str]) -> None:
        flow = self.kiosk.flow
        if action == "lang":
            flow.set_language(form.get("lang", "ja"))
        elif action == "choose":
            flow.choose(form.get("method", ""))
        elif action == "pin":
            flow.enter_pin(form.get("pin", ""))
        elif action == "face":
            flow.capture_face(same_person=form.get("same_person") == "1")
        elif action == "visual_continue":
            flow.continue_visual()
        elif action == "consents":
            names = [key.removeprefix("consent_") for key in form if key.startswith("consent_")]
            if not all(name in (*CONSENT_KINDS, "comprehensive") for name in names):
                raise FlowError("consent names")
            flow.set_consents({name: form[f"consent_{name}"] == "1" for name in names})
        elif action == "limit":
            flow.set_limit(form.get("provide") == "1")
        elif action == "register_consent":
            flow.consent_registration()
        elif action == "register_pin":
            flow.enter_registration_pin(form.get("pin", ""))
        elif action == "finish":
            flow.finish()
        elif action in ("sim_insert", "sim_remove") and self.kiosk.simulated_reader:
            insert, remove = self.kiosk.simulated_reader
            (insert if action == "sim_insert" else remove)()
        else:
            raise FlowError(f"unknown action {action!r}")
