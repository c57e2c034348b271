"""Helpers for e2e tests: accessibility checks, the virtual passkey authenticator, sign-in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import CDPSession, Page

# axe-core ships inside axe-playwright-python (axe.min.js in the wheel): nothing is fetched.
_AXE = Axe()
BLOCKING_IMPACTS = frozenset({"serious", "critical"})


class AccessibilityError(AssertionError):
    pass


def axe_violations(page: Page, context: str | None = None) -> list[dict[str, Any]]:
    """Every axe-core violation on the page as it is now (WCAG 2.x A and AA rules and best
    practices)."""
    results = _AXE.run(page, context=context)
    violations: list[dict[str, Any]] = results.response["violations"]
    return violations


def assert_accessible(page: Page, context: str | None = None) -> None:
    """Fail on any serious or critical axe violation, naming the rule, the elements and why."""
    blocking = [v for v in axe_violations(page, context) if v.get("impact") in BLOCKING_IMPACTS]
    if not blocking:
        return
    lines = [f"{len(blocking)} serious/critical accessibility violation(s) on {page.url}:"]
    for violation in blocking:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    at {', '.join(map(str, node['target']))}")
            summary = node.get("failureSummary") or ""
            lines.extend(f"      {line}" for line in summary.splitlines())
    raise AccessibilityError("\n".join(lines))


@dataclass
class VirtualAuthenticator:
    """A platform passkey authenticator in Chromium through the DevTools protocol (ctap2,
    internal transport, resident keys, user verification that succeeds)."""

    cdp: CDPSession
    authenticator_id: str

    @classmethod
    def attach(cls, page: Page, *, user_verified: bool = True) -> VirtualAuthenticator:
        cdp = page.context.new_cdp_session(page)
        cdp.send("WebAuthn.enable", {"enableUI": False})
        result = cdp.send(
            "WebAuthn.addVirtualAuthenticator",
            {
                "options": {
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": True,
                    "hasUserVerification": True,
                    "isUserVerified": user_verified,
                    "automaticPresenceSimulation": True,
                }
            },
        )
        return cls(cdp=cdp, authenticator_id=str(result["authenticatorId"]))

    def credentials(self) -> list[dict[str, Any]]:
        result = self.cdp.send(
            "WebAuthn.getCredentials", {"authenticatorId": self.authenticator_id}
        )
        credentials: list[dict[str, Any]] = result["credentials"]
        return credentials

    def set_user_verified(self, verified: bool) -> None:
        self.cdp.send(
            "WebAuthn.setUserVerified",
            {"authenticatorId": self.authenticator_id, "isUserVerified": verified},
        )

    def clear(self) -> None:
        self.cdp.send("WebAuthn.clearCredentials", {"authenticatorId": self.authenticator_id})

    def remove(self) -> None:
        self.cdp.send(
            "WebAuthn.removeVirtualAuthenticator", {"authenticatorId": self.authenticator_id}
        )
        self.cdp.send("WebAuthn.disable")
        self.cdp.detach()


@dataclass(frozen=True)
class DemoStaff:
    """A demo staff sign-in created by ``onshi seed`` (development only)."""

    login_id: str
    password: str
    role: str
    display_name: str

    @property
    def audience(self) -> str:
        """The first path segment of the role's pages (and of its sign-in form)."""
        return {"insurer_operator": "insurer", "administrator": "admin"}.get(self.role, "clinic")


def demo_staff(login_id: str) -> DemoStaff:
    from onshi.seeding.commands import DEMO_STAFF

    for login, password, role, _attached, name in DEMO_STAFF:
        if login == login_id:
            return DemoStaff(login, password, role, name)
    raise LookupError(f"no demo staff account {login_id!r} in onshi.seeding.commands.DEMO_STAFF")


def sign_in(page: Page, account: DemoStaff) -> None:
    """Sign in through the audience's sign-in form and wait for the landing page."""
    page.goto(f"/{account.audience}/sign-in")
    page.locator("#login_id").fill(account.login_id)
    page.locator("#password").fill(account.password)
    with page.expect_navigation():
        page.locator("form[action$='/sign-in'] button[type=submit]").click()
    path = page.url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
    if path.endswith("sign-in"):
        error = page.locator("[role=alert]")
        detail = error.inner_text() if error.count() else page.inner_text("main")[:500]
        raise AssertionError(f"sign-in as {account.login_id} failed: {detail}")


def switch_language(page: Page, lang: str) -> None:
    """Use the header's language switch, as a person would, and wait for the page in ``lang``."""
    with page.expect_navigation():
        page.locator(f".lang-switch a[hreflang={lang}]").click()
    page.wait_for_function("lang => document.documentElement.lang === lang", arg=lang)
