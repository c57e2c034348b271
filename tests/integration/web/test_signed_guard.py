"""The /api guard and its dependencies on a small app of their own: signed POST bodies
(application/jose), ``device`` / ``signed_body`` injection, ``parse_body`` and the unsigned
opt-out. (The real app has no signed POST of its own in the devices package.)"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from litestar import Litestar, Router, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import SkipValidation
from litestar.testing import TestClient
from sqlalchemy.orm import Session, sessionmaker

from onshi.clock import FrozenClock
from onshi.devices.signing import DevicePrincipal
from onshi.web.api.signed import API_DEPENDENCIES, UNSIGNED, device_request_guard, parse_body
from onshi.web.errors import exception_handlers
from onshi.web.i18n import Catalogue
from tests.device_client import DeviceKey, make_paired_device

ECHO = "/api/v1/echo"


class EchoBody(msgspec.Struct, forbid_unknown_fields=True):
    n: int
    note: str | None = None


@post("/v1/echo", sync_to_thread=False)
def echo(
    device: NamedDependency[SkipValidation[DevicePrincipal]],
    signed_body: NamedDependency[SkipValidation[dict[str, Any]]],
) -> dict[str, Any]:
    body = parse_body(signed_body, EchoBody)
    return {"device_id": device.device_id, "institution_id": device.institution_id, "n": body.n}


@get("/v1/open", sync_to_thread=False, opt={"device_auth": UNSIGNED})
def open_route() -> str:
    return "open"


@get("/v1/open-but-asks-for-device", sync_to_thread=False, opt={"device_auth": UNSIGNED})
def miswired(device: NamedDependency[SkipValidation[DevicePrincipal]]) -> int:
    return device.device_id


@pytest.fixture
def guard_client(
    db_session_factory: sessionmaker[Session], clock: FrozenClock
) -> Iterator[TestClient[Litestar]]:
    app = Litestar(
        route_handlers=[
            Router(
                path="/api",
                route_handlers=[echo, open_route, miswired],
                guards=[device_request_guard],
                dependencies=API_DEPENDENCIES,
            )
        ],
        exception_handlers=exception_handlers(),
        state=State(
            {
                "session_factory": db_session_factory,
                "clock": clock,
                "catalogue": Catalogue.discover(),
            }
        ),
        openapi_config=None,
    )
    with TestClient(app) as client:
        yield client


@pytest.fixture
def key(db: Session, clock: FrozenClock) -> DeviceKey:
    _device, device_key = make_paired_device(db, clock=clock)
    db.commit()
    return device_key


def _code(response: Any) -> str:
    code: str = response.json()["error"]["code"]
    return code


def test_signed_post_injects_device_and_body(
    guard_client: TestClient[Litestar], key: DeviceKey
) -> None:
    response = key.signed_post(guard_client, ECHO, {"n": 7})
    assert response.status_code == 201, response.text
    assert response.json()["device_id"] == key.device_id
    assert response.json()["n"] == 7


def test_wrong_body_shape_is_api_invalid_body(
    guard_client: TestClient[Litestar], key: DeviceKey
) -> None:
    response = key.signed_post(guard_client, ECHO, {"n": "7"})
    assert response.status_code == 400
    assert _code(response) == "api.invalid_body"
    assert "$.n" in response.json()["error"]["params"]["detail"]
    assert _code(key.signed_post(guard_client, ECHO, {"n": 1, "extra": 1})) == "api.invalid_body"


def test_post_needs_application_jose(guard_client: TestClient[Litestar], key: DeviceKey) -> None:
    token = key.token("POST", ECHO, {"n": 1})
    response = guard_client.post(ECHO, content=token, headers={"Content-Type": "text/plain"})
    assert response.status_code == 400
    assert response.json()["error"]["params"] == {"reason": "content_type"}


def test_post_signature_in_header_only_is_malformed(
    guard_client: TestClient[Litestar], key: DeviceKey
) -> None:
    token = key.token("POST", ECHO, {"n": 1})
    response = guard_client.post(
        ECHO,
        content=b"",
        headers={"Content-Type": "application/jose", "Onshi-Device-Signature": token},
    )
    assert response.status_code == 400
    assert _code(response) == "device.signature_malformed"


def test_get_token_posted_is_a_mismatch(guard_client: TestClient[Litestar], key: DeviceKey) -> None:
    token = key.token("GET", ECHO)
    response = guard_client.post(ECHO, content=token, headers={"Content-Type": "application/jose"})
    assert response.status_code == 401
    assert _code(response) == "device.request_mismatch"


def test_post_replay_is_refused_even_after_a_failed_handler(
    guard_client: TestClient[Litestar], key: DeviceKey
) -> None:
    for body, first_status in (({"n": 1}, 201), ({"n": "bad"}, 400)):
        token = key.token("POST", ECHO, body)
        headers = {"Content-Type": "application/jose"}
        assert guard_client.post(ECHO, content=token, headers=headers).status_code == first_status
        replay = guard_client.post(ECHO, content=token, headers=headers)
        assert replay.status_code == 401
        assert _code(replay) == "device.replayed"


def test_unsigned_opt_out(guard_client: TestClient[Litestar], key: DeviceKey) -> None:
    assert guard_client.get("/api/v1/open").text == "open"
    # An unsigned route can never obtain a device, even with a valid signature header.
    response = key.signed_get(guard_client, "/api/v1/open-but-asks-for-device")
    assert response.status_code == 401
