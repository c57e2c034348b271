"""Application factory. Nothing happens at import time: ``create_app(settings)`` builds it all."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from litestar import Litestar, get
from litestar.datastructures import State
from litestar.di import Provide

from onshi.clock import Clock, SystemClock
from onshi.db.engine import make_engine, make_session_factory
from onshi.settings import Settings
from onshi.web.transaction import provide_db_session


@get("/healthz", sync_to_thread=False, include_in_schema=False)
def healthz() -> str:
    return "ok"


def create_app(settings: Settings, clock: Clock | None = None) -> Litestar:
    engine = make_engine(settings.database_url)
    session_factory = make_session_factory(engine)
    the_clock = clock or SystemClock()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            engine.dispose()

    return Litestar(
        route_handlers=[healthz],
        dependencies={
            "db": Provide(provide_db_session),
            "settings": Provide(lambda: settings, sync_to_thread=False, use_cache=True),
            "clock": Provide(lambda: the_clock, sync_to_thread=False, use_cache=True),
        },
        lifespan=[lifespan],
        state=State(
            {
                "settings": settings,
                "engine": engine,
                "session_factory": session_factory,
                "clock": the_clock,
            }
        ),
        debug=False,
    )


def create_app_from_env() -> Litestar:
    """Factory for uvicorn's multi-worker mode: each worker builds its own app."""
    return create_app(Settings.from_env())
