"""Forwarded headers, trusted only from the proxies named in ``ONSHI_TRUSTED_PROXIES``.

Per-address limits (sign-in, pairing) key on the client address. ``X-Forwarded-For`` and
``X-Forwarded-Proto`` are written by whoever sends the request, so they are believed only when
the connection itself comes from a trusted proxy; then the client is the right-most address
in ``X-Forwarded-For`` that is not a trusted proxy (the one the outermost trusted proxy saw),
and the scheme is the proxy's ``X-Forwarded-Proto``. From any other peer both headers are
ignored. With no trusted proxies (the default) nothing forwarded is believed.

This is done by the app (:class:`ForwardedHeadersMiddleware`, outermost), and uvicorn's own
proxy handling is switched off (:data:`UVICORN_OPTIONS`), so one worker and ``--workers N``
behave the same, as do the tests, whatever uvicorn's defaults (it trusts loopback by default).
``UVICORN_OPTIONS`` also drops uvicorn's ``server`` header.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from litestar.types import ASGIApp, Receive, Scope, Send

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

UVICORN_OPTIONS: Final[dict[str, Any]] = {
    "proxy_headers": False,
    "server_header": False,
    # uvloop's event loop and httptools' HTTP parser (C) rather than asyncio's and h11's (pure
    # Python): both are dependencies (BENCHMARKS.md, P1).
    "loop": "uvloop",
    "http": "httptools",
}


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """``10.0.0.5``, ``10.0.0.0/8``, ``::1`` … ; raises ``ValueError`` naming a bad entry."""
    networks: list[IPNetwork] = []
    for raw in values:
        value = raw.strip()
        if not value:
            continue
        try:
            networks.append(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise ValueError(f"not an IP address or network: {value!r}") from None
    return tuple(networks)


@dataclass(frozen=True)
class TrustedProxies:
    networks: tuple[IPNetwork, ...] = ()

    def trusts(self, address: str | None) -> bool:
        if not address or not self.networks:
            return False
        try:
            ip = ipaddress.ip_address(address.strip().removeprefix("[").removesuffix("]"))
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def client_and_scheme(
        self, peer: str | None, forwarded_for: str | None, forwarded_proto: str | None
    ) -> tuple[str | None, str | None]:
        """The client address and scheme to believe (``None``: keep the connection's)."""
        if not self.trusts(peer):
            return None, None
        client = None
        if forwarded_for:
            hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
            for hop in reversed(hops):
                client = hop
                if not self.trusts(hop):
                    break
            if client is not None and not _is_ip(client):
                client = None
        scheme = None
        if forwarded_proto:
            last = forwarded_proto.split(",")[-1].strip().lower()
            scheme = last if last in {"http", "https"} else None
        return client, scheme


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _header(scope: Scope, name: bytes) -> str | None:
    values = [value for key, value in scope.get("headers", ()) if key.lower() == name]
    if not values:
        return None
    return ",".join(value.decode("latin-1") for value in values)


class ForwardedHeadersMiddleware:
    """Raw ASGI: rewrites ``scope["client"]`` / ``scope["scheme"]`` for trusted proxies only."""

    def __init__(self, app: ASGIApp, proxies: TrustedProxies) -> None:
        self.app = app
        self.proxies = proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in {"http", "websocket"} and self.proxies.networks:
            peer = scope.get("client")
            client, scheme = self.proxies.client_and_scheme(
                peer[0] if peer else None,
                _header(scope, b"x-forwarded-for"),
                _header(scope, b"x-forwarded-proto"),
            )
            if client is not None or scheme is not None:
                scope = dict(scope)  # type: ignore[assignment]
                if client is not None:
                    scope["client"] = (client, 0)
                if scheme is not None:
                    websocket = str(scope["type"]) == "websocket"
                    scope["scheme"] = f"ws{scheme[4:]}" if websocket else scheme
        await self.app(scope, receive, send)
