"""The served OpenAPI document describes the signed bodies (application/jose) and the real
error object, not Litestar's {detail, status_code}."""

from __future__ import annotations

from pathlib import Path

from litestar.testing import TestClient

from onshi.app import create_app
from onshi.settings import Settings
from onshi.web.api.openapi_doc import ERROR_REF, SIGNED_BODIES


def test_signed_bodies_and_error_object_are_documented(tmp_path: Path) -> None:
    settings = Settings(
        environment="test",
        database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}",
        secret_key="s" * 40,
        my_number_key="m" * 40,
        secure_cookies=False,
        batch_worker=False,
    )
    with TestClient(create_app(settings)) as client:
        document = client.get("/api/v1/schema/openapi.json").json()
    assert "Error" in document["components"]["schemas"]
    paths = document["paths"]
    for path in SIGNED_BODIES:
        body = paths[path]["post"]["requestBody"]["content"]
        assert list(body) == ["application/jose"], path
        assert body["application/jose"]["schema"]["type"] == "string"
        assert body["application/jose"]["x-onshi-signed-body"] == SIGNED_BODIES[path]
    for path, operations in paths.items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "503" in responses, (method, path)
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": ERROR_REF}, (method, path, status)
    assert "detail" not in str(document["components"]["schemas"]["Error"])
