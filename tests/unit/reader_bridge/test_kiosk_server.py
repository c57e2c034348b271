"""The kiosk HTTP server on 127.0.0.1: screens, security headers, CSRF, host check, PIN path."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import httpx
import pytest
from bridge_fakes import FakePortal

from reader_bridge.face import SimulatedFaceMatcher
from reader_bridge.flow import KioskFlow, Step
from reader_bridge.kiosk.server import CSP, KioskServer
from reader_bridge.readers.inprocess import InProcessReader
from reader_bridge.virtual_card import VirtualJpkiCard

SLOT = "R"


@pytest.fixture
def kiosk(card: VirtualJpkiCard) -> Iterator[tuple[KioskServer, InProcessReader]]:
    reader = InProcessReader([SLOT])
    flow = KioskFlow(reader, FakePortal(linked={card.certificate_der}), SimulatedFaceMatcher())
    server = KioskServer(flow, 0)
    server.start()
    yield server, reader
    server.close()


def _client(server: KioskServer) -> httpx.Client:
    return httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=5)


def _post(client: httpx.Client, server: KioskServer, **fields: str) -> httpx.Response:
    return client.post("/action", data={"csrf": server.csrf, **fields})


def _insert(server: KioskServer, reader: InProcessReader, card: VirtualJpkiCard) -> None:
    reader.insert(card, SLOT)
    event = reader.wait_for_event(1)
    assert event is not None
    server.flow.handle_event(event)


def test_pages_have_a_strict_csp_and_no_inline_script(
    kiosk: tuple[KioskServer, InProcessReader],
) -> None:
    server, _ = kiosk
    assert server.httpd.server_address[0] == "127.0.0.1"
    with _client(server) as client:
        page = client.get("/")
        assert page.status_code == 200
        assert page.headers["Content-Security-Policy"] == CSP
        assert "unsafe-inline" not in CSP
        assert page.headers["Cache-Control"] == "no-store"
        assert '<html lang="ja">' in page.text
        assert "マイナンバーカードを置いてください" in page.text
        assert re.search(r"<script(?![^>]*\bsrc=)", page.text) is None
        assert " style=" not in page.text
        js = client.get("/static/kiosk.js")
        assert js.status_code == 200
        assert js.headers["Content-Type"].startswith("text/javascript")
        assert client.get("/static/../server.py").status_code == 404
        assert client.get("/nothing").status_code == 404


def test_requests_for_another_host_or_without_the_token_are_refused(
    kiosk: tuple[KioskServer, InProcessReader],
) -> None:
    server, _ = kiosk
    with _client(server) as client:
        assert client.get("/", headers={"Host": "evil.example"}).status_code == 421
        assert client.post("/action", data={"action": "lang", "lang": "en"}).status_code == 403
        cross = client.post(
            "/action",
            data={"csrf": server.csrf, "action": "lang", "lang": "en"},
            headers={"Origin": "http://evil.example"},
        )
        assert cross.status_code == 403
        assert server.flow.snapshot().lang == "ja"
        assert _post(client, server, action="lang", lang="en").status_code == 303
        assert '<html lang="en">' in client.get("/").text


def test_pin_path_through_the_forms(
    kiosk: tuple[KioskServer, InProcessReader],
    card: VirtualJpkiCard,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    server, reader = kiosk
    with _client(server) as client:
        version = int(client.get("/state", params={"since": -1}).json()["version"])
        _insert(server, reader, card)
        assert client.get("/state", params={"since": version}).json()["version"] > version
        assert 'name="method" value="pin"' in client.get("/").text
        _post(client, server, action="choose", method="pin")
        page = client.get("/").text
        assert 'id="pin"' in page
        assert "残り3回" in page
        _post(client, server, action="pin", pin="5555")
        assert "残り2回" in client.get("/").text
        _post(client, server, action="pin", pin="1234")
        assert 'name="consent_drug"' in client.get("/").text
        _post(
            client,
            server,
            action="consents",
            consent_health_check="1",
            consent_drug="1",
            consent_clinical="0",
            consent_surgery="0",
        )
        _post(client, server, action="limit", provide="1")
        page = client.get("/").text
        assert server.flow.snapshot().step is Step.DONE
        assert 'data-result-code="1"' in page
        assert "有効" in page
        stale = _post(client, server, action="pin", pin="1234")  # a stale form
        assert stale.status_code == 303
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "5555" not in logged
    assert "1234" not in logged


def test_registration_through_the_forms_asks_only_for_consent(card: VirtualJpkiCard) -> None:
    """An unregistered card: the 利用登録 screen has no field to type in, only the consent; agreeing
    registers the card and shows the verdict of the same visit."""
    reader = InProcessReader([SLOT])
    portal = FakePortal()
    server = KioskServer(KioskFlow(reader, portal, SimulatedFaceMatcher()), 0)
    server.start()
    try:
        with _client(server) as client:
            _insert(server, reader, card)
            _post(client, server, action="choose", method="pin")
            _post(client, server, action="pin", pin="1234")
            _post(
                client,
                server,
                action="consents",
                consent_health_check="1",
                consent_drug="0",
                consent_clinical="0",
                consent_surgery="0",
            )
            _post(client, server, action="limit", provide="0")
            page = client.get("/").text
            assert 'data-step="register_intro"' in page
            assert 'value="register_consent"' in page
            assert re.search(r'<input(?![^>]*type="hidden")', page) is None  # nothing to type
            _post(client, server, action="register_consent")
            page = client.get("/").text
            assert 'data-step="done"' in page
            assert "利用登録が完了しました" in page
            assert 'data-result-code="1"' in page
        assert len(portal.links) == 1
    finally:
        server.close()
