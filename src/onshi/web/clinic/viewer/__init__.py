"""Controllers of the viewer (/clinic/viewer…) and its administration pages."""

from __future__ import annotations

from onshi.web.clinic.viewer.admin import VIEWER_ADMIN_HANDLERS
from onshi.web.clinic.viewer.pages import VIEWER_PAGE_HANDLERS

VIEWER_HANDLERS = [*VIEWER_PAGE_HANDLERS, *VIEWER_ADMIN_HANDLERS]
