"""App-wide dependencies a controller can ask for by name:

``db`` (Session, request transaction), ``settings``, ``clock``, ``principal`` (guarded routes),
``passwords`` (PasswordService), ``sign_in_limits``, ``session_policy``, ``catalogue``,
``cookie_names``.
"""

from __future__ import annotations

from typing import Any

from litestar.datastructures import State
from litestar.di import Provide

from onshi.accounts.passwords import PasswordService
from onshi.accounts.services import SessionPolicy, SignInLimits
from onshi.settings import Settings
from onshi.web.guards import provide_principal
from onshi.web.i18n import Catalogue
from onshi.web.middleware import CookieNames
from onshi.web.transaction import provide_db_session


def provide_passwords(state: State) -> PasswordService:
    service: PasswordService = state.passwords
    return service


def provide_catalogue(state: State) -> Catalogue:
    catalogue: Catalogue = state.catalogue
    return catalogue


def provide_cookie_names(state: State) -> CookieNames:
    names: CookieNames = state.cookie_names
    return names


def sign_in_limits(settings: Settings) -> SignInLimits:
    return SignInLimits(
        attempts=settings.sign_in_attempts_per_window,
        window_seconds=settings.sign_in_window_seconds,
    )


def session_policy(settings: Settings) -> SessionPolicy:
    return SessionPolicy(hours=settings.session_hours, idle_minutes=settings.session_idle_minutes)


def app_dependencies(settings: Settings, clock: Any) -> dict[str, Provide]:
    limits = sign_in_limits(settings)
    policy = session_policy(settings)
    return {
        "db": Provide(provide_db_session),
        "settings": Provide(lambda: settings, sync_to_thread=False, use_cache=True),
        "clock": Provide(lambda: clock, sync_to_thread=False, use_cache=True),
        "principal": Provide(provide_principal, sync_to_thread=False),
        "passwords": Provide(provide_passwords, sync_to_thread=False),
        "catalogue": Provide(provide_catalogue, sync_to_thread=False),
        "cookie_names": Provide(provide_cookie_names, sync_to_thread=False),
        "sign_in_limits": Provide(lambda: limits, sync_to_thread=False, use_cache=True),
        "session_policy": Provide(lambda: policy, sync_to_thread=False, use_cache=True),
    }
