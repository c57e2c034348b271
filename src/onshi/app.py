"""Application factory. Nothing happens at import time: ``create_app(settings)`` builds it all."""

from __future__ import annotations

import gc
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from litestar import Litestar, get
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from onshi.accounts.passwords import PasswordService
from onshi.accounts.schemas import Principal
from onshi.accounts.services import resolve_session
from onshi.audit.integrator import Integrator
from onshi.audit.keys import log_identity
from onshi.batch.worker import BatchWorker
from onshi.clock import Clock, server_clock
from onshi.db.engine import make_engine, make_session_factory
from onshi.settings import Settings
from onshi.web.api.openapi import api_openapi_config
from onshi.web.dependencies import app_dependencies, session_policy
from onshi.web.errors import exception_handlers
from onshi.web.guards import audience_guard
from onshi.web.i18n import Catalogue
from onshi.web.live import STATE_KEY as LIVE_STATE_KEY
from onshi.web.live import build_broker, live_lifespan
from onshi.web.middleware import CookieNames, WebContextConfig, WebContextMiddleware
from onshi.web.path_ids import reject_out_of_range_ids
from onshi.web.proxies import ForwardedHeadersMiddleware, TrustedProxies, parse_networks
from onshi.web.rendering import STATIC_DIR, build_template_environment
from onshi.web.routes import CSRF_EXEMPT_PREFIXES, build_routers
from onshi.web.security import security_headers_hook


@get("/healthz", sync_to_thread=False, include_in_schema=False, opt={"audience": "public"})
def healthz() -> str:
    return "ok"


_frozen = False


def _freeze_once() -> None:
    """``gc.freeze()`` once per process (a test process starts many apps: freezing again would
    keep every earlier test's garbage forever)."""
    global _frozen  # noqa: PLW0603 - one flag per process
    if not _frozen:
        _frozen = True
        gc.freeze()


def create_app(
    settings: Settings,
    clock: Clock | None = None,
    *,
    passwords: PasswordService | None = None,
) -> Litestar:
    engine = make_engine(settings.database_url, timeout_seconds=settings.db_timeout_seconds)
    session_factory = make_session_factory(engine)
    the_clock = clock or server_clock(settings.clock_offset_seconds)
    catalogue = Catalogue.discover()
    policy = session_policy(settings)
    broker = build_broker(settings)
    batch_worker = BatchWorker(engine, the_clock) if settings.batch_worker else None
    identity = log_identity(settings)
    integrator = (
        Integrator(
            settings.database_url,
            identity,
            the_clock,
            interval=settings.tlog_interval_ms / 1000,
            export=settings.checkpoint_export,
        )
        if settings.tlog_integrator
        else None
    )

    def resolve(token: str) -> Principal | None:
        with session_factory() as db:
            principal = resolve_session(db, the_clock, policy, token)
            db.commit()
            return principal

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        if batch_worker is not None:
            batch_worker.start()
        if integrator is not None:
            integrator.start()
        # Everything built so far (modules, templates, the app) lives as long as the process:
        # out of the collector's sight, a full collection no longer walks it (large pages,
        # e.g. 5 years of drugs, made the collections show up as 100 ms stalls; docs/viewer.md).
        _freeze_once()
        try:
            yield
        finally:
            if integrator is not None:
                integrator.stop()
            if batch_worker is not None:
                batch_worker.stop()
            engine.dispose()

    return Litestar(
        route_handlers=[
            healthz,
            create_static_files_router(
                path="/static", directories=[STATIC_DIR], opt={"audience": "public"}
            ),
            *build_routers(),
        ],
        dependencies=app_dependencies(settings, the_clock),
        guards=[audience_guard],
        middleware=[
            DefineMiddleware(
                ForwardedHeadersMiddleware,
                proxies=TrustedProxies(parse_networks(settings.trusted_proxies)),
            ),
            DefineMiddleware(
                WebContextMiddleware,
                config=WebContextConfig(
                    settings=settings,
                    resolve_session=resolve,
                    csrf_exempt_prefixes=CSRF_EXEMPT_PREFIXES,
                ),
            ),
        ],
        before_send=[security_headers_hook(settings)],
        before_request=reject_out_of_range_ids,
        exception_handlers=exception_handlers(),
        template_config=TemplateConfig(
            engine=JinjaTemplateEngine.from_environment(build_template_environment(catalogue))
        ),
        lifespan=[lifespan, live_lifespan(broker)],
        state=State(
            {
                "settings": settings,
                "engine": engine,
                "session_factory": session_factory,
                "clock": the_clock,
                "catalogue": catalogue,
                "passwords": passwords or PasswordService.default(),
                "cookie_names": CookieNames.for_settings(settings),
                "batch_worker": batch_worker,
                "tlog_identity": identity,
                "tlog_integrator": integrator,
                LIVE_STATE_KEY: broker,
            }
        ),
        openapi_config=api_openapi_config(),
        debug=False,
    )


def create_app_from_env() -> Litestar:
    """Factory for uvicorn's multi-worker mode: each worker builds its own app."""
    return create_app(Settings.from_env())
