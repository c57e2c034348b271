"""Property-based requests against the device API, generated from its own OpenAPI document
(schemathesis), each signed as the paired device it claims to be: no answer may be a 5xx, and
every error is the documented error object. Bounded (a few examples per operation) so it stays
well under a minute per backend."""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import unquote

import pytest
import schemathesis.openapi
from hypothesis import HealthCheck, given, settings
from litestar import Litestar
from litestar.testing import TestClient
from schemathesis import Case
from sqlalchemy.orm import Session

from onshi.clock import FrozenClock
from onshi.web.api.openapi_doc import UNSIGNED_PATHS
from tests.device_client import JOSE_MEDIA_TYPE, SIGNATURE_HEADER, DeviceKey, make_paired_device
from tests.factories import make_institution

EXAMPLES_PER_OPERATION = 25
SIGNED_BODY = "x-onshi-signed-body"


def _loosen(schema: dict[str, Any]) -> dict[str, Any]:
    """The same object with every property's value either as documented or any JSON (type
    confusion next to valid fields: ``"method": {}``, numbers for strings, lists for objects)."""
    loose = copy.deepcopy(schema)
    if isinstance(loose.get("properties"), dict):
        loose["properties"] = {
            name: {"anyOf": [value, {}]} for name, value in loose["properties"].items()
        }
    return loose


def fuzz_document(document: dict[str, Any], *, loose: bool) -> dict[str, Any]:
    """The served document, with each signed body described as the JSON object that the test
    signs (``x-onshi-signed-body``) and the signature scheme left to the test."""
    fuzz = copy.deepcopy(document)
    for operations in fuzz["paths"].values():
        for operation in operations.values():
            operation.pop("security", None)
            content = operation.get("requestBody", {}).get("content", {})
            if JOSE_MEDIA_TYPE in content:
                body = content[JOSE_MEDIA_TYPE][SIGNED_BODY]
                operation["requestBody"]["content"] = {
                    "application/json": {"schema": _loosen(body) if loose else body}
                }
    fuzz.get("components", {}).pop("securitySchemes", None)
    fuzz.pop("security", None)
    return fuzz


def _send(client: TestClient[Litestar], key: DeviceKey, case: Case) -> Any:
    path = case.formatted_path
    signed_path = unquote(path)
    method = case.method.upper()
    query = case.query or None
    if signed_path in UNSIGNED_PATHS:
        return client.request(method, path, params=query, json=case.body)
    if method == "POST":
        body = case.body if isinstance(case.body, dict) else {"value": case.body}
        token = key.token(method, signed_path, body)
        return client.post(
            path, params=query, content=token, headers={"Content-Type": JOSE_MEDIA_TYPE}
        )
    token = key.token(method, signed_path)
    return client.request(method, path, params=query, headers={SIGNATURE_HEADER: token})


def _check(answer: Any, case: Case) -> None:
    where = f"{case.method} {case.formatted_path} body={case.body!r:.300}"
    assert answer.status_code < 500, f"{answer.status_code} for {where}: {answer.text[:300]}"
    if answer.status_code >= 400:
        error = answer.json()["error"]
        assert isinstance(error["code"], str), where
        assert set(error["message"]) == {"ja", "en"}, where
        assert isinstance(error["params"], dict), where


@pytest.mark.parametrize("loose", [False, True], ids=["documented", "any-values"])
def test_no_generated_request_gets_a_5xx(
    db: Session, client: TestClient[Litestar], clock: FrozenClock, loose: bool
) -> None:
    _device, key = make_paired_device(db, institution=make_institution(db), clock=clock)
    db.commit()
    document = client.get("/api/v1/schema/openapi.json").json()
    schema = schemathesis.openapi.from_dict(fuzz_document(document, loose=loose))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Case) -> None:
            _check(_send(client, key, case), case)

        run()


_IDENTITY = {
    "insurer_number": "01130012",
    "symbol": "12",
    "number": "34",
    "branch": "01",
    "birth_date": "1980-04-01",
}
VALID_SHAPES: dict[str, dict[str, Any]] = {
    "/api/v1/verifications": {
        "challenge_id": "AAAAAAAAAAAAAAAAAAAAAA",
        "certificate": "AAAA",
        "method": "pin",
        "proof": {"signature": "AAAA"},
        "consents": {"health_check": True, "drug": True, "clinical": False, "surgery": False},
        "limit_info": True,
    },
    "/api/v1/card-links": {
        "challenge_id": "AAAAAAAAAAAAAAAAAAAAAA",
        "certificate": "AAAA",
        "signature": "AAAA",
        "person": _IDENTITY,
    },
    "/api/v1/qualifications/lookup": {**_IDENTITY, "institution_patient_number": "K-1"},
    "/api/v1/batch-inquiries": {"rows": [{"patient_ref": "A-1", **_IDENTITY}]},
    "/api/v1/verifications/challenges": {},
}
WRONG_VALUES: list[Any] = [{}, [], {"a": [1]}, 0, -1, 2**64, 1.5, True, None, "", "x" * 5000]


def _variants(shape: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Each field of a well-formed body replaced, one at a time, by each wrong value (nested
    objects too), and each field left out."""
    out: list[tuple[str, dict[str, Any]]] = []
    for name, value in shape.items():
        out.append((f"{name} missing", {k: v for k, v in shape.items() if k != name}))
        for wrong in WRONG_VALUES:
            out.append((f"{name}={wrong!r:.20}", {**shape, name: wrong}))
        if isinstance(value, dict):
            for inner, nested in _variants(value):
                out.append((f"{name}.{inner}", {**shape, name: nested}))
        if isinstance(value, list) and value and isinstance(value[0], dict):
            for inner, nested in _variants(value[0]):
                out.append((f"{name}[0].{inner}", {**shape, name: [nested]}))
    return out


@pytest.mark.parametrize("path", sorted(VALID_SHAPES))
def test_every_wrongly_typed_field_gets_a_4xx(
    db: Session, client: TestClient[Litestar], clock: FrozenClock, path: str
) -> None:
    """``"method": {}`` was a 500 (unhashable). A wrong value is a 4xx with the error object;
    optional fields may also be accepted (a missing 記号, a null 枝番 …), never a 5xx."""
    _device, key = make_paired_device(db, institution=make_institution(db), clock=clock)
    db.commit()
    for label, body in _variants(VALID_SHAPES[path]):
        answer = key.signed_post(client, path, body)
        assert answer.status_code < 500, f"{path} {label}: {answer.status_code}"
        if answer.status_code >= 400:
            assert answer.json()["error"]["code"], label
    wrong_method = {**VALID_SHAPES["/api/v1/verifications"], "method": {}}
    if path == "/api/v1/verifications":
        answer = key.signed_post(client, path, wrong_method)
        assert answer.status_code == 400
        assert answer.json()["error"]["params"] == {"field": "method"}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/verifications/9223372036854775808",
        "/api/v1/batch-inquiries/99999999999999999999999",
        "/api/v1/batch-inquiries/-1/results",
    ],
)
def test_huge_or_odd_ids_in_api_paths_are_4xx(
    db: Session, client: TestClient[Litestar], clock: FrozenClock, path: str
) -> None:
    _device, key = make_paired_device(db, institution=make_institution(db), clock=clock)
    db.commit()
    answer = key.signed_get(client, path)
    assert 400 <= answer.status_code < 500, answer.text[:300]
