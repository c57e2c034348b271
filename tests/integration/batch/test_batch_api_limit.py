"""The documented limit of the 一括照会 API is the real one: 100,000 rows in one signed request
are accepted (the signed request is far above the 512 KiB cap of other routes), 100,001 are
refused with the row limit named, and other signed routes keep their small cap."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from onshi.app import create_app
from onshi.clock import FrozenClock
from onshi.devices.signing import MAX_TOKEN_LENGTH
from onshi.web.api.batch import API_MAX_ROWS
from tests.device_client import make_paired_device
from tests.factories import make_institution
from tests.integration.web.conftest import FAST_PASSWORDS, web_settings

PATH = "/api/v1/batch-inquiries"


@pytest.fixture
def client(db_engine: Engine, clock: FrozenClock) -> Iterator[TestClient[Litestar]]:
    app = create_app(web_settings(db_engine, batch_worker=False), clock, passwords=FAST_PASSWORDS)
    with TestClient(app, timeout=300) as test_client:
        yield test_client


def _rows(count: int) -> list[dict[str, str]]:
    return [
        {
            "patient_ref": f"A-{line:06d}",
            "insurer_number": "01130012",
            "symbol": "1234",
            "number": f"{line:06d}",
            "branch": "00",
            "birth_date": "1980-05-17",
        }
        for line in range(1, count + 1)
    ]


def test_the_documented_100000_rows_fit_one_request(
    db: Session, client: TestClient[Litestar], clock: FrozenClock
) -> None:
    assert API_MAX_ROWS == 100_000  # docs/batch-inquiry.md
    _device, key = make_paired_device(db, institution=make_institution(db), clock=clock)
    db.commit()
    rows = _rows(API_MAX_ROWS)
    token = key.token("POST", PATH, {"rows": rows})
    assert len(token) > 20 * MAX_TOKEN_LENGTH  # what the old cap refused at ~3,100 rows
    accepted = client.post(PATH, content=token, headers={"Content-Type": "application/jose"})
    assert accepted.status_code == 202, accepted.text[:300]
    assert accepted.json()["total_rows"] == API_MAX_ROWS

    too_many = key.signed_post(client, PATH, {"rows": _rows(API_MAX_ROWS + 1)})
    assert too_many.status_code in {400, 413, 422}, too_many.text[:300]
    assert too_many.json()["error"]["params"].get("expected") == str(API_MAX_ROWS)


def test_other_signed_routes_keep_the_small_cap(
    db: Session, client: TestClient[Litestar], clock: FrozenClock
) -> None:
    _device, key = make_paired_device(db, institution=make_institution(db), clock=clock)
    db.commit()
    padding = "x" * MAX_TOKEN_LENGTH
    answer = key.signed_post(client, "/api/v1/qualifications/lookup", {"insurer_number": padding})
    assert answer.status_code in {400, 413}
    assert answer.json()["error"]["code"] in {"device.signature_malformed", "too_large"}
