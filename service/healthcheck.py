"""The container's health check: ask the service on its configured port.

    python -m service.healthcheck           # GET /healthz (the process is up)
    python -m service.healthcheck --ready   # GET /readyz  (FHIR server and stores usable)

The port is ``NELM_CDS_PORT`` (default 8080), the one gunicorn binds, so a container
started on another port is still checked where it listens. Exit 0 when the answer is
200, else 1 with one line on stderr. Standard library only, 2 s timeout.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence

__all__ = ["main"]

TIMEOUT_SECONDS = 2.0


def main(argv: Sequence[str] | None = None) -> int:
    """Check the local service; return the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    path = "/readyz" if "--ready" in args else "/healthz"
    port = os.environ.get("NELM_CDS_PORT", "8080").strip() or "8080"
    if not port.isdigit():
        print(f"healthcheck: NELM_CDS_PORT {port!r} is not a port", file=sys.stderr)
        return 1
    url = f"http://127.0.0.1:{int(port)}{path}"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310
            status = answer.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError as error:
        print(f"healthcheck: {url} unreachable ({type(error).__name__})", file=sys.stderr)
        return 1
    if status != 200:
        print(f"healthcheck: {url} answered {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
