"""The e2e harness itself: the server subprocess, Chromium, the axe check, the passkey
authenticator. Each would otherwise fail silently inside the audience tests."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from e2e.harness import OnshiServer
from e2e.helpers import AccessibilityError, VirtualAuthenticator, assert_accessible

CREATE_PASSKEY = """
async () => {
  const credential = await navigator.credentials.create({publicKey: {
    challenge: crypto.getRandomValues(new Uint8Array(32)),
    rp: {id: location.hostname, name: "Onshi e2e"},
    user: {id: new Uint8Array([1, 2, 3, 4]), name: "e2e", displayName: "e2e"},
    pubKeyCredParams: [{type: "public-key", alg: -7}],
    authenticatorSelection: {residentKey: "required", userVerification: "required"},
  }});
  return credential.type;
}
"""


def test_server_answers_on_loopback(onshi_server: OnshiServer, page: Page) -> None:
    response = page.goto("/healthz")
    assert response is not None
    assert response.status == 200
    assert page.content().count("ok") >= 1
    assert onshi_server.process is not None
    assert onshi_server.process.poll() is None


def test_axe_check_fails_on_a_critical_violation(page: Page) -> None:
    page.set_content(
        '<!doctype html><html lang="en"><head><title>t</title></head>'
        '<body><main><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></main></body></html>'
    )
    with pytest.raises(AccessibilityError, match="image-alt"):
        assert_accessible(page)


def test_axe_check_passes_an_accessible_page(page: Page) -> None:
    page.set_content(
        '<!doctype html><html lang="ja"><head><title>受付</title></head>'
        "<body><main><h1>受付</h1><label>記号<input name=symbol></label></main></body></html>"
    )
    assert_accessible(page)


def test_virtual_authenticator_creates_a_resident_passkey(
    page: Page, virtual_authenticator: VirtualAuthenticator
) -> None:
    # A secure context on the server's own origin (localhost: a relying party ID cannot be an IP).
    page.goto("/healthz")
    assert page.evaluate(CREATE_PASSKEY) == "public-key"
    credentials = virtual_authenticator.credentials()
    assert len(credentials) == 1
    assert credentials[0]["isResidentCredential"] is True
    assert credentials[0]["rpId"] == "localhost"
