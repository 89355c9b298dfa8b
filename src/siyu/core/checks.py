"""System checks shown by ``siyu check``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register


@register("siyu")
def check_static_vendor(app_configs: Any, **kwargs: Any) -> list[Any]:
    vendor = settings.BASE_STATIC_VENDOR
    missing = [
        name
        for name in ("htmx.min.js", "alpine.min.js", "echarts.min.js")
        if not (vendor / name).exists()
    ]
    if missing:
        return [
            Warning(
                f"front-end packages missing from {vendor}: {', '.join(missing)}",
                hint="run `npm ci && npm run build` in the project directory",
                id="siyu.W001",
            )
        ]
    return []


@register("siyu", deploy=True)
def check_production(app_configs: Any, **kwargs: Any) -> list[Any]:
    errors: list[Any] = []
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") and settings.PRODUCTION:
        errors.append(
            Warning(
                "production is running on SQLite",
                hint="set SIYU_DATABASE_URL=postgres://… for more than one store",
                id="siyu.W002",
            )
        )
    if settings.PRODUCTION and settings.DEBUG:
        errors.append(Error("SIYU_DEBUG is on in production", id="siyu.E001"))
    return errors
