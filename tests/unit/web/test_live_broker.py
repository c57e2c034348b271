"""The in-process live broker: delivery on commit only, per topic, across threads, overflow, and
the message formats of onshi.web.live."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from onshi.settings import Settings
from onshi.web.broker import (
    CLOSED,
    QUEUE_SIZE,
    RESYNC,
    BrokerError,
    InProcessBroker,
    PostgresBroker,
    psycopg_conninfo,
)
from onshi.web.live import (
    build_broker,
    institution_topic,
    parse_live_message,
    pending_message,
    verification_message,
)


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    engine = create_engine(f"sqlite:///{tmp_path / 'live.sqlite3'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    return sessionmaker(engine)


def test_delivered_on_commit_never_on_rollback(sessions: sessionmaker[Session]) -> None:
    async def scenario() -> list[str | None]:
        broker = InProcessBroker()
        await broker.start()
        async with (
            broker.subscribe("institution:1") as ours,
            broker.subscribe("institution:2") as other,
        ):
            with sessions() as db:
                db.execute(text("INSERT INTO t VALUES (1)"))
                broker.publish_on_commit(db, "institution:1", "v:1")
                db.rollback()
                broker.publish_on_commit(db, "institution:1", "v:2")
                assert await ours.get(timeout=0.05) is None  # not before the commit
                db.execute(text("INSERT INTO t VALUES (2)"))
                db.commit()
                # The same Session's next transaction starts clean.
                db.execute(text("INSERT INTO t VALUES (3)"))
                db.commit()
            received = [await ours.get(timeout=1), await ours.get(timeout=0.05)]
            assert await other.get(timeout=0.05) is None
        await broker.stop()
        return received

    assert asyncio.run(scenario()) == ["v:2", None]


def test_commit_in_a_worker_thread_reaches_the_event_loop(
    sessions: sessionmaker[Session],
) -> None:
    async def scenario() -> str | None:
        broker = InProcessBroker()
        await broker.start()
        async with broker.subscribe("topic") as subscription:

            def handler() -> None:  # what a sync route handler does in the thread pool
                with sessions() as db:
                    broker.publish_on_commit(db, "topic", "v:7")
                    db.commit()

            thread = threading.Thread(target=handler)
            thread.start()
            await asyncio.to_thread(thread.join)
            return await subscription.get(timeout=1)

    assert asyncio.run(scenario()) == "v:7"


def test_a_slow_subscriber_is_told_to_resync() -> None:
    async def scenario() -> list[str | None]:
        broker = InProcessBroker()
        await broker.start()
        async with broker.subscribe("topic") as subscription:
            for n in range(QUEUE_SIZE + 5):
                subscription.offer(f"v:{n}")
            received = [await subscription.get(timeout=0.1) for _ in range(5)]
            await broker.stop()
            received.append(await subscription.get(timeout=0.1))
            return received

    # The backlog is dropped for one RESYNC; what came after the overflow still follows.
    assert asyncio.run(scenario()) == [
        RESYNC,
        f"v:{QUEUE_SIZE + 1}",
        f"v:{QUEUE_SIZE + 2}",
        f"v:{QUEUE_SIZE + 3}",
        f"v:{QUEUE_SIZE + 4}",
        CLOSED,
    ]


def test_unsubscribed_on_exit() -> None:
    async def scenario() -> tuple[int, int]:
        broker = InProcessBroker()
        async with broker.subscribe("a"), broker.subscribe("a"):
            inside = broker.subscriber_count
        return inside, broker.subscriber_count

    assert asyncio.run(scenario()) == (2, 0)


def test_payload_limit(sessions: sessionmaker[Session]) -> None:
    broker = InProcessBroker()
    with sessions() as db, pytest.raises(BrokerError):
        broker.publish_on_commit(db, "topic", "x" * 9000)


def test_messages_and_backend_choice() -> None:
    assert institution_topic(12) == "institution:12"
    assert parse_live_message(verification_message(34)) == ("verification", 34)
    assert parse_live_message(pending_message(5)) == ("pending", 5)
    for bad in ("v:", "v:-1", "v:1x", "x:1", "", "p:" + "9" * 30):
        assert parse_live_message(bad) is None
    base = Settings(
        environment="test",
        secret_key="s" * 40,
        my_number_key="m" * 40,
        database_url="sqlite:///x.sqlite3",
    )
    assert isinstance(build_broker(base), InProcessBroker)
    pg = build_broker(base.with_(database_url="postgresql+psycopg://u:p@127.0.0.1:5432/db"))
    assert isinstance(pg, PostgresBroker)
    assert pg.channel == "onshi_verifications"
    assert psycopg_conninfo("postgresql+psycopg://u:p@h:5/d") == "postgresql://u:p@h:5/d"
    with pytest.raises(BrokerError):
        PostgresBroker("postgresql://h/d", "bad channel; drop")
