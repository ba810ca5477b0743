"""Where the service keeps its instance files (feedback store, development keys).

One rule for the app and the command-line tools, so ``python -m service cds-call`` finds
the development key the running service generated: ``NELM_CDS_INSTANCE_PATH`` when set,
else Flask's own choice for this package (``instance/`` beside the source checkout, or
``<prefix>/var/service.app-instance`` for an installed package).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["instance_path"]


def instance_path(
    explicit: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> Path:
    """Return the instance folder: ``explicit``, else ``NELM_CDS_INSTANCE_PATH``, else Flask's."""
    environ = os.environ if environ is None else environ
    chosen = explicit or environ.get("NELM_CDS_INSTANCE_PATH") or None
    if chosen:
        return Path(chosen).expanduser().absolute()
    from flask import Flask  # only for its instance-path rule; no app is configured

    return Path(Flask("service.app").instance_path)
