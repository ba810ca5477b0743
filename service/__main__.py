"""``python -m service``: see :mod:`service.cli`."""

import sys

from service.cli import main

sys.exit(main())
