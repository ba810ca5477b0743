"""The base of the service's records: msgspec's ``Struct``, and ``field`` and ``replace``.

The criteria model, the criteria inputs and the mappers' values are Structs, not
dataclasses (issue 12). Python 3.11 compiles six methods from source for every frozen
dataclass when its class is made, about 1 ms each on the reference machine; the 43 on the
``evaluate`` path cost every CLI start 40 ms. A Struct's class is made in C in microseconds,
and its instances are made five to seven times faster. A frozen Struct (``frozen=True``,
given on every class: type checkers do not inherit it) behaves as a frozen slotted
dataclass: fields in order, defaults last, equality and hashing by value, ``repr``.

Import them from here, never from msgspec itself: the first import of msgspec is made
here, with typing_extensions hidden. msgspec imports typing_extensions when it is installed
(pydantic brings it) only to read type hints when it decodes, which the service never asks
of it; typing_extensions imports :mod:`inspect`, and the two took 10-15 ms of every CLI
start. Once msgspec is loaded, typing_extensions imports normally, but msgspec keeps
:func:`typing.get_type_hints` for the rest of the process (it would use it only to
decode, which nothing here does). ``sys.modules`` is changed for the moment of the
import, so this module must be imported before any thread is started: every entry point
(CLI, web app, gunicorn workers, screening workers) imports the criteria first.
"""

from __future__ import annotations

import sys


def _import_msgspec_without_typing_extensions() -> None:
    if "msgspec" in sys.modules or "typing_extensions" in sys.modules:
        return
    sys.modules["typing_extensions"] = None  # type: ignore[assignment]  # "not installed"
    try:
        import msgspec  # noqa: F401
    except ImportError:  # a msgspec that needs typing_extensions: import it as it is
        pass
    finally:
        del sys.modules["typing_extensions"]


_import_msgspec_without_typing_extensions()

from msgspec import Struct, field  # noqa: E402
from msgspec.structs import force_setattr, replace  # noqa: E402

__all__ = ["Struct", "field", "force_setattr", "replace"]
