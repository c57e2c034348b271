"""Forwarded headers are believed only from trusted proxies; production needs TLS at a trusted
proxy; HSTS and no-store; the API sets no cookie."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import TestClient

from onshi.app import create_app
from onshi.audit.note import Signer
from onshi.settings import Settings, SettingsError
from onshi.web.proxies import TrustedProxies, parse_networks
from onshi.web.security import HSTS

PROXIES = TrustedProxies(parse_networks(["10.0.0.0/8", "127.0.0.1"]))


def test_forwarded_headers_from_an_untrusted_peer_are_ignored() -> None:
    assert PROXIES.client_and_scheme("198.51.100.7", "203.0.113.9", "https") == (None, None)
    assert TrustedProxies().client_and_scheme("127.0.0.1", "203.0.113.9", "https") == (
        None,
        None,
    )


def test_the_client_is_the_rightmost_untrusted_hop() -> None:
    # the client forged the first entry; our proxies appended the rest
    assert PROXIES.client_and_scheme("127.0.0.1", "1.2.3.4, 203.0.113.9, 10.1.1.1", "https") == (
        "203.0.113.9",
        "https",
    )
    assert PROXIES.client_and_scheme("10.0.0.2", "garbage", "ftp") == (None, None)
    assert PROXIES.client_and_scheme("10.0.0.2", None, "http") == (None, "http")


def test_bad_proxy_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="not an IP"):
        parse_networks(["proxy.example"])
    with pytest.raises(SettingsError, match="ONSHI_TRUSTED_PROXIES"):
        Settings.from_env({"ONSHI_ENV": "test", **_keys(), "ONSHI_TRUSTED_PROXIES": "nope"})


def _keys() -> dict[str, str]:
    return {
        "ONSHI_SECRET_KEY": "s" * 40,
        "ONSHI_MY_NUMBER_KEY": "m" * 40,
        "ONSHI_TLOG_SIGNING_KEY": Signer("p.example.jp/transparency", bytes(32)).encode(),
    }


def test_production_refuses_an_http_public_origin() -> None:
    env = {"ONSHI_ENV": "production", **_keys(), "ONSHI_TRUSTED_PROXIES": "10.0.0.1"}
    with pytest.raises(SettingsError, match="https://"):
        Settings.from_env({**env, "ONSHI_PUBLIC_ORIGIN": "http://portal.example.jp"})
    with pytest.raises(SettingsError, match="ONSHI_TRUSTED_PROXIES"):
        Settings.from_env(
            {"ONSHI_ENV": "production", **_keys(), "ONSHI_PUBLIC_ORIGIN": "https://p.example.jp"}
        )
    settings = Settings.from_env({**env, "ONSHI_PUBLIC_ORIGIN": "https://portal.example.jp"})
    assert settings.trusted_proxies == ("10.0.0.1",)


def _settings(tmp_path: Path, **changes: object) -> Settings:
    return Settings(
        environment="test",
        database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}",
        secret_key="s" * 40,
        my_number_key="m" * 40,
        secure_cookies=False,
        batch_worker=False,
    ).with_(**changes)


def test_hsts_is_sent_behind_a_tls_proxy_even_over_a_plain_http_hop(tmp_path: Path) -> None:
    app = create_app(
        _settings(tmp_path, public_origin="https://portal.example.jp", trusted_proxies=("::1",))
    )
    with TestClient(app, base_url="http://testserver.local") as client:
        answer = client.get("/healthz")
    assert answer.headers["strict-transport-security"] == HSTS


def test_the_api_sets_no_cookie_and_is_never_cached(tmp_path: Path) -> None:
    with TestClient(create_app(_settings(tmp_path))) as client:
        page = client.get("/clinic/sign-in")
        assert "onshi_csrf" in page.headers.get("set-cookie", "")
        for path in ("/api/v1/devices/me", "/api/v1/devices/me?lang=en", "/api/v1/schema"):
            fresh = TestClient(client.app)
            answer = fresh.get(path)
            assert "set-cookie" not in answer.headers, path
            assert answer.headers["cache-control"] == "no-store", path
