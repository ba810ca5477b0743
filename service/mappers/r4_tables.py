"""The FHIR R4 element tables the structure walk checks against, read once at import.

The tables are data, ``service/data/r4-elements.json``, generated from the fhir.resources
R4B models by ``python -m tools.generate_r4_structure`` (a test fails when they are
stale). They are read with a plain ``open`` beside this package, not
``importlib.resources`` or pathlib, which would add their imports to every CLI start.
"""

from __future__ import annotations

import json
import os
from typing import Final

__all__ = ["ELEMENTS", "REQUIRED_CHOICES", "Spec"]

Spec = tuple[str, bool, bool, str]
"""(type, repeats, required, choice group): a choice group names a ``value[x]``-style
element of which at most one may appear; type ``Element`` is a primitive's ``_name``."""

_DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(__file__))), "data")


def _load() -> tuple[dict[str, dict[str, Spec]], dict[str, tuple[str, ...]]]:
    with open(os.path.join(_DATA, "r4-elements.json"), encoding="utf-8") as file:
        document = json.loads(file.read())
    elements = {
        type_name: {
            name: (str(k), bool(r), bool(q), str(g)) for name, (k, r, q, g) in table.items()
        }
        for type_name, table in document["elements"].items()
    }
    choices = {
        type_name: tuple(groups) for type_name, groups in document["required_choices"].items()
    }
    return elements, choices


_TABLES = _load()
ELEMENTS: Final[dict[str, dict[str, Spec]]] = _TABLES[0]
"""``ELEMENTS[type][json name]``: the :data:`Spec` of each element of each type."""
REQUIRED_CHOICES: Final[dict[str, tuple[str, ...]]] = _TABLES[1]
"""``REQUIRED_CHOICES[type]``: the choice groups of which one must appear."""
