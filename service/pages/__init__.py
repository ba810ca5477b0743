"""The clinician page: one patient's evaluation as server-rendered HTML.

Register with :func:`init_app` (after the data source is built). Modules:
:mod:`~service.pages.routes` (blueprint ``pages``), :mod:`~service.pages.access` (who may
see a page, where the record comes from), :mod:`~service.pages.links` (short-lived signed
links for EHRs without SMART), :mod:`~service.pages.view` (what the templates show).
"""

from __future__ import annotations

from service.pages.links import PageLinks, sign_page_link, verify_page_link
from service.pages.routes import PAGE_DEFAULTS, blueprint, init_app

__all__ = [
    "PAGE_DEFAULTS",
    "PageLinks",
    "blueprint",
    "init_app",
    "sign_page_link",
    "verify_page_link",
]
