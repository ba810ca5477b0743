"""CDS Hooks 2.0: discovery, the ``nelm-eligibility`` service and its feedback endpoint.

Modules, in the order a hook call goes through them:

- :mod:`~service.cdshooks.discovery`: the service described as data (id, hook,
  description, prefetch templates built from the mappers' code lists);
- :mod:`~service.cdshooks.request`: validate the hook request body (400 when malformed);
- :mod:`~service.cdshooks.prefetch`: turn each prefetch key into resources, fetching
  the missing ones from an allowlisted ``fhirServer`` (412 when data cannot be had);
- :mod:`~service.cdshooks.cards`: the card built from the evaluation result;
- :mod:`~service.cdshooks.feedback`: the durable, idempotent feedback store;
- :mod:`~service.cdshooks.routes`: the ``cds_hooks`` blueprint, CORS and
  :func:`~service.cdshooks.routes.init_app`;
- :mod:`~service.cdshooks.security`: the CDS client's JWT (``Authorization`` header).

This package module holds data only, so importing a submodule stays cheap.
"""

from __future__ import annotations

from typing import Any

from service.config import defaults

__all__ = ["CDS_HOOKS_DEFAULTS"]

CDS_HOOKS_DEFAULTS: dict[str, Any] = defaults("FEEDBACK_DB", "CDS_CORS_ORIGINS")
"""``FEEDBACK_DB``: SQLite file for card feedback (``None``: ``feedback.sqlite3`` in the
instance folder). ``CDS_CORS_ORIGINS``: comma-separated browser origins allowed to call
the CDS Hooks routes (``https://ehr.example.org``); empty allows none."""
