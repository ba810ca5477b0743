"""``python -m service``: see :mod:`service.cli`.

``evaluate`` and ``criteria`` end the process at once, output flushed, without the
interpreter's clean-up: they hold no open file, lock or worker, and tearing down the
modules they loaded takes longer than evaluating a record (issue 12's cold path). Every
other command (servers, screening with its worker processes) ends normally.
"""

import os
import sys

from service.cli import ENDS_AT_ONCE, main

status = main()
if sys.argv[1:2] and sys.argv[1] in ENDS_AT_ONCE:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
sys.exit(status)
