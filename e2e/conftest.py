"""e2e fixtures: the real server as a subprocess, Debian's Chromium, audiences' sign-in.

- ``onshi_server`` (session): a temporary data directory, ``onshi migrate`` + ``onshi seed``
  (the demo nation), ``onshi serve`` on a free loopback port; stopped at the end. A failing
  test gets the server's log appended to its report.
- ``base_url``: the server's origin (``http://localhost:<port>``), so ``page.goto("/clinic")``.
- ``browser_type_launch_args``: Debian's Chromium (``ONSHI_CHROMIUM`` overrides the path).
- ``browser_context_args``: Japanese locale, Tokyo time.
- ``mobile_page``: a 360 px wide touch page (the patient pages are mobile first).
- ``virtual_authenticator``: a DevTools passkey authenticator attached to ``page``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.harness import OnshiServer, ServerError
from e2e.helpers import VirtualAuthenticator
from onshi.devtools.pytest_ci import register

CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
MOBILE_VIEWPORT = {"width": 360, "height": 740}
# Two shared cores in CI: give assertions some slack over Playwright's 5 s default.
EXPECT_TIMEOUT_MS = 10_000
_SERVER_KEY = pytest.StashKey[OnshiServer]()


def pytest_configure(config: pytest.Config) -> None:
    register(config)
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    server = item.config.stash.get(_SERVER_KEY, None)
    if report.failed and server is not None:
        report.sections.append(("onshi server log (last 200 lines)", server.log()))
    return report


def chromium_path() -> str:
    configured = os.environ.get("ONSHI_CHROMIUM")
    if configured:
        return configured
    for candidate in (
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    raise pytest.UsageError(
        "Debian's Chromium is not installed: apt-get install -y chromium "
        "(or run `make test`, which checks the test prerequisites)"
    )


@pytest.fixture(scope="session")
def onshi_server(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[OnshiServer]:
    server = OnshiServer(data_dir=tmp_path_factory.mktemp("onshi-e2e"))
    failure = ""
    try:
        server.prepare()
        server.start()
    except ServerError as exc:
        server.stop()
        failure = str(exc)
    if failure:
        pytest.fail(failure, pytrace=False)
    pytestconfig.stash[_SERVER_KEY] = server
    try:
        yield server
    finally:
        del pytestconfig.stash[_SERVER_KEY]
        code = server.stop()
        if code not in (0, None, -15):
            print(f"\nonshi serve exited {code}:\n{server.log()}")


@pytest.fixture(scope="session")
def base_url(onshi_server: OnshiServer) -> str:
    return onshi_server.base_url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": chromium_path(),
        "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_context_args,
        "locale": "ja-JP",
        "timezone_id": "Asia/Tokyo",
    }


@pytest.fixture
def mobile_page(browser: Browser, browser_context_args: dict[str, Any]) -> Iterator[Page]:
    """A page 360 px wide, as on a small smartphone (touch, mobile viewport meta honoured)."""
    context = browser.new_context(
        **{
            **browser_context_args,
            "viewport": MOBILE_VIEWPORT,
            "device_scale_factor": 2,
            "is_mobile": True,
            "has_touch": True,
        }
    )
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def virtual_authenticator(page: Page) -> Iterator[VirtualAuthenticator]:
    """A passkey authenticator on ``page`` (for ``mobile_page`` use
    ``VirtualAuthenticator.attach(mobile_page)``)."""
    authenticator = VirtualAuthenticator.attach(page)
    try:
        yield authenticator
    finally:
        authenticator.remove()
