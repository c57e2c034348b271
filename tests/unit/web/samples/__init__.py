"""Sample template contexts for ``test_templates.py``, one module per area. Each module exports
``SAMPLES: dict[str, dict[str, Any]]`` mapping a template path (relative to ``templates/``) to
the smallest context it needs; templates that render with no data need no entry."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any


def all_samples() -> dict[str, dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for module_info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        for name, context in module.SAMPLES.items():
            if name in merged:
                raise ValueError(f"two sample contexts for {name}")
            merged[name] = context
    return merged
