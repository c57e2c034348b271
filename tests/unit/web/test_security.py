"""Security headers, CSP and CSRF behaviour that needs no data."""

from __future__ import annotations

import re
from pathlib import Path

from litestar import Litestar
from litestar.testing import TestClient

from onshi.app import create_app
from onshi.web.middleware import csrf_token_for

from .conftest import make_settings

EXPECTED_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
    "object-src 'none'"
)


def test_pages_carry_the_strict_csp_and_security_headers(client: TestClient[Litestar]) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == EXPECTED_CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert "camera=()" in response.headers["permissions-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert "strict-transport-security" not in response.headers


def test_errors_and_static_files_carry_the_headers_too(client: TestClient[Litestar]) -> None:
    for path in ("/no/such/page", "/static/css/onshi.css", "/static/nope.css"):
        response = client.get(path)
        assert response.headers["content-security-policy"] == EXPECTED_CSP, path
        assert response.headers["x-content-type-options"] == "nosniff", path


def test_hsts_only_when_served_over_https(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, public_origin="https://onshi.example.jp"))
    with TestClient(app) as client:
        hsts = client.get("/").headers["strict-transport-security"]
    assert hsts.startswith("max-age=")


def test_no_inline_script_or_style_in_pages(client: TestClient[Litestar]) -> None:
    html = client.get("/clinic/sign-in").text
    assert "<style" not in html
    assert " style=" not in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts, "htmx must be loaded"
    for attributes, body in scripts:
        assert 'src="/static/' in attributes
        assert body.strip() == ""
    assert re.search(r"\son[a-z]+=", html) is None  # no inline event handlers


def test_htmx_is_configured_for_the_csp(client: TestClient[Litestar]) -> None:
    html = client.get("/").text
    config = re.search(r'<meta name="htmx-config" content=\'([^\']*)\'', html)
    assert config is not None
    assert '"allowEval":false' in config.group(1)
    assert '"includeIndicatorStyles":false' in config.group(1)
    assert '"allowScriptTags":false' in config.group(1)
    htmx_src = re.search(r'src="(/static/vendor/htmx-[0-9.]+\.min\.js)"', html)
    assert htmx_src is not None
    assert client.get(htmx_src.group(1)).status_code == 200


def test_html_lang_follows_the_language(client: TestClient[Litestar]) -> None:
    assert '<html lang="ja">' in client.get("/").text
    english = client.get("/?lang=en")
    assert '<html lang="en">' in english.text
    assert "Institution and pharmacy staff" in english.text
    # remembered in the lang cookie
    assert '<html lang="en">' in client.get("/").text


def test_language_switch_link_returns_to_the_same_page(client: TestClient[Litestar]) -> None:
    html = client.get("/admin/sign-in?next=/admin").text
    link = re.search(r'href="(/lang/en\?next=[^"]+)"', html)
    assert link is not None
    response = client.get(link.group(1).replace("&amp;", "&"), follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/sign-in?next=%2Fadmin"
    assert response.cookies.get("lang") == "en"


def test_language_switch_refuses_external_targets(client: TestClient[Litestar]) -> None:
    for target in ("https://evil.example", "//evil.example", "/\\evil.example"):
        response = client.get("/lang/en", params={"next": target}, follow_redirects=False)
        assert response.headers["location"] == "/"
    assert client.get("/lang/fr").status_code == 404


def test_unsafe_request_without_csrf_token_is_refused(client: TestClient[Litestar]) -> None:
    client.get("/clinic/sign-in")  # sets the CSRF cookie
    response = client.post("/clinic/sign-in", data={"login_id": "a", "password": "b"})
    assert response.status_code == 403
    assert "フォームの有効期限" in response.text


def test_csrf_token_is_bound_to_the_cookie(client: TestClient[Litestar]) -> None:
    client.get("/clinic/sign-in")
    forged = csrf_token_for("unit-test-secret-key-0123456789abcdef", "A" * 43, None)
    response = client.post(
        "/clinic/sign-in", data={"login_id": "a", "password": "b", "csrf_token": forged}
    )
    assert response.status_code == 403


def test_csrf_cookie_is_httponly_and_samesite(client: TestClient[Litestar]) -> None:
    set_cookie = client.get("/").headers.get_list("set-cookie")
    csrf = [value for value in set_cookie if value.startswith("onshi_csrf=")]
    assert csrf
    assert "HttpOnly" in csrf[0]
    assert "SameSite=lax" in csrf[0] or "SameSite=Lax" in csrf[0]


def test_secure_cookies_use_the_host_prefix(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, secure_cookies=True))
    with TestClient(app, base_url="https://testserver.local") as client:
        set_cookie = client.get("/").headers.get_list("set-cookie")
    csrf = [value for value in set_cookie if value.startswith("__Host-onshi_csrf=")]
    assert csrf
    assert "Secure" in csrf[0]
    assert "Path=/" in csrf[0]
    assert "Domain" not in csrf[0]


def test_guarded_page_redirects_to_sign_in(client: TestClient[Litestar]) -> None:
    response = client.get("/insurer", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/insurer/sign-in?next=%2Finsurer"


def test_guarded_page_asks_htmx_to_navigate(client: TestClient[Litestar]) -> None:
    response = client.get("/admin", headers={"HX-Request": "true"}, follow_redirects=False)
    assert response.status_code == 401
    assert response.headers["hx-redirect"] == "/admin/sign-in?next=%2Fadmin"


def test_not_found_page_in_english(client: TestClient[Litestar]) -> None:
    response = client.get("/missing?lang=en")
    assert response.status_code == 404
    assert "Not found" in response.text
    assert '<html lang="en">' in response.text
