"""The PostgreSQL broker's LISTEN connection: delivery on commit, reconnection after the server
drops it (subscribers are told to resync), and a clean stop."""

from __future__ import annotations

import asyncio
import os
import secrets

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from onshi.web.broker import CLOSED, RESYNC, PostgresBroker
from tests.integration.conftest import POSTGRES_ENV, _PostgresScratch

pytestmark = pytest.mark.skipif(
    not os.environ.get(POSTGRES_ENV), reason=f"PostgreSQL tests need {POSTGRES_ENV}"
)


@pytest.fixture
def listen_url(_postgres_scratch: _PostgresScratch | None) -> str:
    """An empty database of its own (NOTIFY needs no tables)."""
    assert _postgres_scratch is not None
    return _postgres_scratch.create(f"listen_{secrets.token_hex(3)}")


def test_listener_delivers_reconnects_and_stops(listen_url: str) -> None:
    url = listen_url
    engine = create_engine(url)
    channel = f"onshi_test_{secrets.token_hex(3)}"

    def publish(message: str, *, commit: bool = True) -> None:
        with Session(engine) as db:
            broker.publish_on_commit(db, "institution:1", message)
            if commit:
                db.commit()
            else:
                db.rollback()

    def drop_listener() -> int:
        with engine.begin() as connection:
            return len(
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND query = :listen"
                    ),
                    {"listen": f"LISTEN {channel}"},
                ).all()
            )

    broker = PostgresBroker(url, channel)

    async def scenario() -> list[str | None]:
        await broker.start()
        received: list[str | None] = []
        async with broker.subscribe("institution:1") as subscription:
            await asyncio.to_thread(publish, "v:1", commit=False)
            await asyncio.to_thread(publish, "v:2")
            received.append(await subscription.get(timeout=5))
            assert await asyncio.to_thread(drop_listener) == 1
            received.append(await subscription.get(timeout=10))
            await asyncio.wait_for(broker.wait_listening(), 10)
            await asyncio.to_thread(publish, "v:3")
            received.append(await subscription.get(timeout=5))
            await broker.stop()
            received.append(await subscription.get(timeout=1))
        return received

    try:
        assert asyncio.run(scenario()) == ["v:2", RESYNC, "v:3", CLOSED]
        with engine.connect() as connection:  # the listener's connection is gone
            left = connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND query = :listen"
                ),
                {"listen": f"LISTEN {channel}"},
            ).scalar_one()
        assert left == 0
    finally:
        engine.dispose()
