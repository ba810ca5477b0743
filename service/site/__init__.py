"""The service's own front door: ``GET /`` (a short landing page), ``GET /openapi.yaml``
and ``GET /docs`` (the API reference rendered by Swagger UI, its assets served from
this service). Register with :func:`~service.site.routes.init_app`."""

from __future__ import annotations

from service.site.routes import blueprint, init_app

__all__ = ["blueprint", "init_app"]
