"""``python -m service``: see :mod:`service.cli`.

``evaluate`` and ``criteria`` end the process at once, output flushed, without the
interpreter's clean-up: they hold no open file, lock or worker, and tearing down the
modules they loaded takes longer than evaluating a record (issue 12's cold path). When
anything has registered an exit handler (coverage of subprocesses, a tracing agent), or
for every other command (servers, screening with its worker processes), the process
ends normally.
"""

import atexit
import os
import sys

from service.cli import ENDS_AT_ONCE, main

status = main()
if sys.argv[1:2] and sys.argv[1] in ENDS_AT_ONCE and atexit._ncallbacks() == 0:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
sys.exit(status)
