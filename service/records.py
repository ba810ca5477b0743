"""The base of the service's records: msgspec's ``Struct``, and ``field`` and ``replace``.

The criteria model, the criteria inputs and the mappers' values are Structs, not
dataclasses (issue 12). Python 3.11 compiles six methods from source for every frozen
dataclass when its class is made, about 1 ms each on the reference machine; the 43 on the
``evaluate`` path cost every CLI start 40 ms. A Struct's class is made in C in microseconds,
and its instances are made five to seven times faster. A frozen Struct (``frozen=True``,
given on every class: type checkers do not inherit it) behaves as a frozen slotted
dataclass: fields in order, defaults last, equality and hashing by value, ``repr``.

Import them from here, never from msgspec itself: the first import of msgspec is made
here, and it loads only what the service uses.

- **msgspec's compiled core alone.** ``Struct``, ``Field``, ``replace`` and
  ``force_setattr`` all live in the extension module ``msgspec._core``; the package's
  ``__init__`` also imports six Python modules for decoding, schemas and other formats
  (``msgspec.inspect``, ``json``, ``msgpack``, ``toml``, ``yaml``, ``structs``), which
  the service never uses: 10 ms of every CLI start. So the core is loaded under a bare
  stand-in for the package, which is removed again at once; whoever imports ``msgspec``
  later gets the real package, built around the same core (the same ``Struct``). One
  difference remains: that package has no ``_core`` or ``_utils`` attribute (Python sets
  one only when it loads the submodule), so ``msgspec._core`` reached as an attribute
  fails where ``import msgspec._core`` works; nothing uses it, and a test pins it. A
  msgspec laid out otherwise (or one that cannot do without typing_extensions) is
  imported whole, as it is.
- **Without typing_extensions.** msgspec imports it when it is installed (pydantic brings
  it) only to read type hints when it decodes, which the service never asks of it;
  typing_extensions imports :mod:`inspect`, and the two took 10-15 ms of every CLI start.
  Once msgspec is loaded, typing_extensions imports normally, but msgspec keeps
  :func:`typing.get_type_hints` for the rest of the process.

``sys.modules`` is changed for the moment of the import, so this module must be imported
before any thread is started (every entry point, CLI, web app, gunicorn workers and
screening workers, imports the criteria first), and an import hook that imports msgspec
while the core loads (an instrumentation agent, say) meets the stand-in, whose every
missing attribute is an error that says so.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import types
from typing import TYPE_CHECKING, NoReturn


def _being_loaded(name: str) -> NoReturn:
    raise AttributeError(f"msgspec.{name}: msgspec's core is being loaded by service.records")


def _core_alone() -> types.ModuleType:
    """Import ``msgspec._core`` under a bare stand-in for the ``msgspec`` package."""
    spec = importlib.machinery.PathFinder.find_spec("msgspec")
    if spec is None or spec.submodule_search_locations is None:
        raise ImportError("msgspec is not an installed package")
    package = types.ModuleType("msgspec")
    package.__spec__ = spec
    package.__path__ = list(spec.submodule_search_locations)
    package.__package__ = "msgspec"
    package.__getattr__ = _being_loaded  # type: ignore[method-assign]  # PEP 562
    sys.modules["msgspec"] = package
    try:
        return importlib.import_module("msgspec._core")
    finally:
        del sys.modules["msgspec"]


def _forget_msgspec() -> None:
    for name in [n for n in sys.modules if n == "msgspec" or n.startswith("msgspec.")]:
        del sys.modules[name]


def _msgspec_core() -> types.ModuleType:
    """Return msgspec's core, imported as the module text says."""
    if "msgspec" in sys.modules or "msgspec._core" in sys.modules:
        return importlib.import_module("msgspec._core")
    hide = "typing_extensions" not in sys.modules
    if hide:
        sys.modules["typing_extensions"] = None  # type: ignore[assignment]  # "not installed"
    try:
        return _core_alone()
    except Exception:  # noqa: BLE001 - laid out otherwise, or needing typing_extensions
        _forget_msgspec()
    finally:
        if hide:
            del sys.modules["typing_extensions"]
    return importlib.import_module("msgspec._core")  # the whole package, as it is


if TYPE_CHECKING:
    from msgspec import Struct, field
    from msgspec.structs import force_setattr, replace
else:
    _core = _msgspec_core()
    Struct = _core.Struct
    field = _core.Field  # what msgspec.field returns, made directly
    force_setattr = _core.force_setattr
    replace = _core.replace
    del _core

__all__ = ["Struct", "field", "force_setattr", "replace"]
