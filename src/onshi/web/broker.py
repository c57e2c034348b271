"""Live-event broker: publish small messages on a topic when a database transaction commits, and
let async subscribers (server-sent event streams) receive them. Knows nothing of the domain.

One interface (:class:`Broker`), two backends:

``InProcessBroker``
    For SQLite / one worker. ``publish_on_commit`` keeps the message on the SQLAlchemy Session and
    fans it out through asyncio queues in the SQLAlchemy ``after_commit`` event of that Session,
    so a message is delivered only when (and right after) its transaction committed, and never
    for a rolled-back one. Safe to call from the thread pool: delivery hops onto the event loop
    with ``call_soon_threadsafe``.

``PostgresBroker``
    For several workers on PostgreSQL. ``publish_on_commit`` runs ``SELECT pg_notify(channel,
    payload)`` through the same Session, inside the writing transaction: PostgreSQL delivers a
    NOTIFY exactly when that transaction commits and drops it on rollback. Each worker keeps one
    dedicated psycopg ``AsyncConnection`` (autocommit) that ``LISTEN``\\s on the channel and fans
    the notifications out to its local subscribers. The listener reconnects on its own; after a
    reconnection every subscriber receives :data:`RESYNC` (notifications sent while it was away
    are lost, so consumers re-read what they show from the database).

Subscribers::

    async with broker.subscribe("topic") as subscription:
        message = await subscription.get(timeout=15)   # str, RESYNC, or None on timeout

A subscriber that falls more than ``QUEUE_SIZE`` messages behind gets :data:`RESYNC` instead of the
dropped messages. ``start()`` / ``stop()`` belong to the application lifespan; ``stop()`` ends the
listener task and closes its connection, and wakes every subscriber with :data:`CLOSED`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

QUEUE_SIZE: Final = 256
RESYNC: Final = "\x00resync"
CLOSED: Final = "\x00closed"
# PostgreSQL limits a NOTIFY payload to 8000 bytes; ours are a topic and an id.
MAX_PAYLOAD_BYTES: Final = 7900
_PENDING_KEY: Final = "onshi.broker.pending"
_HOOKED_KEY: Final = "onshi.broker.hooked"


class BrokerError(RuntimeError):
    """A message cannot be published (payload too large, broker not started)."""


@dataclass(eq=False)
class Subscription:
    topic: str
    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))

    async def get(self, timeout: float | None = None) -> str | None:
        """The next message, :data:`RESYNC`, :data:`CLOSED`, or ``None`` after ``timeout``."""
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None

    def offer(self, message: str) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            # Too far behind: drop the backlog and ask the consumer to re-read from the source.
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(RESYNC)


class Broker(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def subscribe(self, topic: str) -> AbstractAsyncContextManager[Subscription]: ...

    def publish_on_commit(self, db: Session, topic: str, message: str) -> None: ...

    @property
    def subscriber_count(self) -> int: ...


class _Hub:
    """Local fan-out: topic → subscriptions, all touched on the event loop only."""

    def __init__(self) -> None:
        self._topics: dict[str, set[Subscription]] = {}
        self.loop: asyncio.AbstractEventLoop | None = None

    @property
    def count(self) -> int:
        return sum(len(subs) for subs in self._topics.values())

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[Subscription]:
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
        subscription = Subscription(topic)
        self._topics.setdefault(topic, set()).add(subscription)
        try:
            yield subscription
        finally:
            subs = self._topics.get(topic)
            if subs is not None:
                subs.discard(subscription)
                if not subs:
                    del self._topics[topic]

    def deliver(self, topic: str, message: str) -> None:
        for subscription in tuple(self._topics.get(topic, ())):
            subscription.offer(message)

    def broadcast(self, message: str) -> None:
        for subs in tuple(self._topics.values()):
            for subscription in tuple(subs):
                subscription.offer(message)

    def deliver_threadsafe(self, topic: str, message: str) -> None:
        loop = self.loop
        if loop is None or loop.is_closed():
            return  # nobody has ever subscribed in this process: nobody to tell
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self.deliver(topic, message)
        else:
            loop.call_soon_threadsafe(self.deliver, topic, message)


def _encode(topic: str, message: str) -> str:
    payload = json.dumps({"t": topic, "m": message}, separators=(",", ":"), ensure_ascii=False)
    if len(payload.encode()) > MAX_PAYLOAD_BYTES:
        raise BrokerError(f"live message too large for NOTIFY ({len(payload)} characters)")
    return payload


def _decode(payload: str) -> tuple[str, str] | None:
    try:
        data = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    topic, message = data.get("t"), data.get("m")
    if not isinstance(topic, str) or not isinstance(message, str):
        return None
    return topic, message


class InProcessBroker:
    """Fan-out inside this process, on commit of the publishing Session."""

    def __init__(self) -> None:
        self._hub = _Hub()

    async def start(self) -> None:
        self._hub.loop = asyncio.get_running_loop()

    async def stop(self) -> None:
        self._hub.broadcast(CLOSED)

    @property
    def subscriber_count(self) -> int:
        return self._hub.count

    def subscribe(self, topic: str) -> AbstractAsyncContextManager[Subscription]:
        return self._hub.subscribe(topic)

    def publish_on_commit(self, db: Session, topic: str, message: str) -> None:
        _encode(topic, message)  # same limits as the PostgreSQL backend
        if not db.info.get(_HOOKED_KEY):
            _install_session_hooks(db, self._hub.deliver_threadsafe)
            db.info[_HOOKED_KEY] = True
        db.info.setdefault(_PENDING_KEY, []).append((topic, message))


def _install_session_hooks(db: Session, deliver: Callable[[str, str], None]) -> None:
    """Once per Session: on commit deliver what was published in that transaction, on rollback
    forget it. (Listeners stay for the Session's life; removing them inside their own event is
    not allowed.)"""

    def after_commit(session: Session) -> None:
        messages: list[tuple[str, str]] = session.info.pop(_PENDING_KEY, [])
        for topic, message in messages:
            deliver(topic, message)

    def after_rollback(session: Session) -> None:
        session.info.pop(_PENDING_KEY, None)

    event.listen(db, "after_commit", after_commit)
    event.listen(db, "after_rollback", after_rollback)


def psycopg_conninfo(database_url: str) -> str:
    """A libpq URL from a SQLAlchemy one (``postgresql+psycopg://`` → ``postgresql://``)."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class PostgresBroker:
    """NOTIFY in the writing transaction; one LISTEN connection per process."""

    RECONNECT_DELAYS: Final = (0.2, 0.5, 1.0, 2.0, 5.0)

    def __init__(self, database_url: str, channel: str) -> None:
        if not channel.isidentifier() or channel.lower() != channel:
            raise BrokerError(f"channel must be a lower-case identifier, not {channel!r}")
        self.conninfo = psycopg_conninfo(database_url)
        self.channel = channel
        self._hub = _Hub()
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    @property
    def subscriber_count(self) -> int:
        return self._hub.count

    def subscribe(self, topic: str) -> AbstractAsyncContextManager[Subscription]:
        return self._hub.subscribe(topic)

    def publish_on_commit(self, db: Session, topic: str, message: str) -> None:
        db.execute(select(func.pg_notify(self.channel, _encode(topic, message))))

    def payload(self, topic: str, message: str) -> str:
        """The NOTIFY payload :meth:`publish_on_commit` sends, for a statement that sends it
        itself (``SELECT … pg_notify(channel, payload)`` folded into a write)."""
        return _encode(topic, message)

    async def start(self) -> None:
        """Start listening; returns once the first LISTEN is in place (or raises)."""
        if self._task is not None:
            return
        self._hub.loop = asyncio.get_running_loop()
        self._listening = asyncio.Event()
        first = await self._connect()
        self._task = asyncio.create_task(self._run(first), name=f"onshi-listen-{self.channel}")

    async def wait_listening(self) -> None:
        await self._listening.wait()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        self._hub.broadcast(CLOSED)

    async def _connect(self) -> Any:
        import psycopg  # the postgres extra; imported only when PostgreSQL is configured

        connection = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
        try:
            await connection.execute(f"LISTEN {self.channel}")
        except BaseException:
            await connection.close()
            raise
        self._listening.set()
        return connection

    async def _run(self, connection: Any) -> None:
        attempt = 0
        try:
            while True:
                if connection is None:
                    try:
                        connection = await self._connect()
                    except Exception as exc:
                        delay = self.RECONNECT_DELAYS[min(attempt, len(self.RECONNECT_DELAYS) - 1)]
                        attempt += 1
                        log.warning(
                            "live listener: reconnect failed (%s); retry in %ss", exc, delay
                        )
                        await asyncio.sleep(delay)
                        continue
                    attempt = 0
                    self._hub.broadcast(RESYNC)  # what was sent while away is lost
                try:
                    async for notify in connection.notifies():
                        decoded = _decode(notify.payload)
                        if decoded is not None:
                            self._hub.deliver(*decoded)
                except Exception as exc:
                    log.warning("live listener: connection lost (%s); reconnecting", exc)
                    self._listening.clear()
                    with suppress(Exception):
                        await connection.close()
                    connection = None
        finally:
            self._listening.clear()
            if connection is not None:
                with suppress(Exception):
                    await connection.close()
